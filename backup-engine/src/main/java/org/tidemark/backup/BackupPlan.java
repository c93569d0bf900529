package org.tidemark.backup;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.tidemark.archive.DiskDecision;
import org.tidemark.model.Checkpoint;

/**
 * The decisions taken before a backup copies anything: the base backup it is incremental on, the
 * checkpoints from that base to the one saved, and what happens to each disk.
 *
 * @param checkpoint the checkpoint the backup saves (Y)
 * @param base the backup it is incremental on, if any (X)
 * @param path the checkpoint names from the base's checkpoint to Y, oldest first; just Y without base
 * @param disks one plan per disk of the domain, in domain order
 */
public record BackupPlan(Checkpoint checkpoint, Optional<BaseBackup> base, List<String> path, List<DiskPlan> disks) {
  /** Checks the fields and freezes the lists. */
  public BackupPlan {
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(base, "base");
    path = List.copyOf(path);
    disks = List.copyOf(disks);
  }

  /** Whether any disk is incremental (the archive then records the base as its parent). */
  public boolean isIncremental() {
    return disks.stream().anyMatch(d -> d.decision() == DiskDecision.INCREMENTAL);
  }

  /** The disk plans that fell back to full although an increment was possible in principle. */
  public List<DiskPlan> fallbacks() {
    return disks.stream().filter(d -> d.decision().isFallback()).toList();
  }
}
