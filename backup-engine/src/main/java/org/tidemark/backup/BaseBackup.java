package org.tidemark.backup;

import java.util.Map;
import java.util.Objects;
import org.tidemark.model.Checkpoint;

/**
 * A backup already in the repository that a new backup may be incremental on.
 *
 * @param archiveId the archive's identifier in the repository
 * @param checkpoint the checkpoint the backup saved (read from the archive itself)
 * @param diskSizes the virtual size of each disk the backup contains, by disk name
 */
public record BaseBackup(String archiveId, Checkpoint checkpoint, Map<String, Long> diskSizes) {
  /** Checks the fields and freezes the map. */
  public BaseBackup {
    Objects.requireNonNull(archiveId, "archiveId");
    Objects.requireNonNull(checkpoint, "checkpoint");
    diskSizes = Map.copyOf(diskSizes);
  }
}
