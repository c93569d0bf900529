package org.tidemark.backup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.DiskDecision;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * Decides, before anything is copied, what a backup of checkpoint Y does with each disk.
 *
 * <p>The base X is the newest ancestor of Y (following {@code <parent>} through the known
 * checkpoints) that the repository holds a backup of. For each disk, "changed since X" is the union
 * of the bitmaps of the checkpoints from X towards Y, oldest first, ending with the first bitmap
 * that is still recording: with libvirt 6 and later every checkpoint's bitmap records, so that is
 * bitmap X alone; images from older libvirt disabled a checkpoint's bitmap when the next one was
 * created, so the union runs on to the newest one. A bitmap that is missing, in use, or has a gap
 * in the backing chain makes that disk full, with the reason; so does a disk that was not tracked
 * on the path, is new since X, or changed size. Read-only and empty drives and excluded disks are
 * skipped.
 *
 * <p>Stateless and thread-safe.
 */
public final class BackupPlanner {

  /**
   * Opens the disk the planner asks about (its size and bitmap states); called only for disks to be
   * copied. The planner does not close it: the caller that opened it does.
   */
  @FunctionalInterface
  public interface DiskLookup {
    /**
     * The named disk's image as it is now.
     *
     * @throws IOException when the image cannot be opened or read
     */
    DiskSource disk(String disk) throws IOException;
  }

  /** Finds the backup of a checkpoint in the repository. */
  @FunctionalInterface
  public interface BaseLookup {
    /** The backup that saved the named checkpoint, if the repository holds one. */
    Optional<BaseBackup> backupOf(String checkpointName);
  }

  private final BaseLookup repository;
  private final Map<String, Checkpoint> knownCheckpoints;

  /**
   * A planner over a repository and the checkpoints libvirt knows.
   *
   * @param repository finds existing backups by checkpoint name
   * @param knownCheckpoints the other checkpoints of the domain by name (libvirt's checkpoint
   *     directory), used to walk from Y to its ancestors
   */
  public BackupPlanner(BaseLookup repository, Map<String, Checkpoint> knownCheckpoints) {
    this.repository = repository;
    this.knownCheckpoints = Map.copyOf(knownCheckpoints);
  }

  /**
   * Plans the backup of checkpoint {@code y}.
   *
   * @param y the checkpoint the backup saves; its domain lists the disks
   * @param excluded disk names not to back up
   * @param forceFull copy every disk in full
   * @param images opens the disks that are to be copied
   * @throws IOException when an image cannot be read
   */
  public BackupPlan plan(Checkpoint y, Set<String> excluded, boolean forceFull, DiskLookup images)
      throws IOException {
    Base base = findBase(y);
    List<DiskPlan> plans = new ArrayList<>();
    for (DomainDisk disk : disksOf(y)) {
      plans.add(planDisk(y, disk, base, excluded, forceFull, images));
    }
    return new BackupPlan(y, base.backup, base.path, plans);
  }

  private DiskPlan planDisk(
      Checkpoint y, DomainDisk disk, Base base, Set<String> excluded, boolean forceFull, DiskLookup images)
      throws IOException {
    String name = disk.target();
    if (excluded.contains(name)) {
      return full(name, DiskDecision.EXCLUDED, "");
    }
    if (disk.empty()) {
      return full(name, DiskDecision.EMPTY, "");
    }
    if (disk.readOnly()) {
      return full(name, DiskDecision.READ_ONLY, "");
    }
    Optional<CheckpointDisk> tracked = y.disk(name).filter(d -> d.type() == CheckpointType.BITMAP);
    if (tracked.isEmpty()) {
      return full(name, DiskDecision.NOT_TRACKED, "");
    }
    if (forceFull) {
      return full(name, DiskDecision.FORCED_FULL, "");
    }
    if (base.backup.isEmpty()) {
      return base.missing.isEmpty()
          ? full(name, DiskDecision.NO_BASE_BACKUP, "")
          : full(name, DiskDecision.CHECKPOINT_CHAIN_INCOMPLETE, "checkpoint '" + base.missing + "' is unknown");
    }
    BaseBackup x = base.backup.get();
    Long baseSize = x.diskSizes().get(name);
    if (baseSize == null) {
      return full(name, DiskDecision.NEW_DISK, "backup " + x.archiveId() + " has no disk " + name);
    }
    DiskSource image = images.disk(name);
    if (image.virtualSize() != baseSize) {
      return full(
          name,
          DiskDecision.SIZE_CHANGED,
          baseSize + " bytes in backup " + x.archiveId() + ", " + image.virtualSize() + " bytes now");
    }
    List<String> union = new ArrayList<>();
    for (String checkpointName : base.path) {
      Optional<String> bitmap = bitmapOf(checkpointName, name, x, y);
      if (bitmap.isEmpty()) {
        return full(name, DiskDecision.UNTRACKED_ON_PATH, "checkpoint '" + checkpointName + "'");
      }
      BitmapState state = image.bitmap(bitmap.get());
      String which = "bitmap '" + bitmap.get() + "' of checkpoint '" + checkpointName + "'";
      if (state.gapInChain()) {
        return full(name, DiskDecision.BITMAP_GAP_IN_CHAIN, which);
      }
      if (!state.present()) {
        Optional<String> replaced = y.domain().flatMap(now -> replacedImage(x.checkpoint(), now, name));
        return replaced.isPresent()
            ? full(name, DiskDecision.DISK_REPLACED, replaced.get())
            : full(name, DiskDecision.BITMAP_MISSING, which);
      }
      if (state.inUse()) {
        return full(name, DiskDecision.BITMAP_IN_USE, which);
      }
      union.add(bitmap.get());
      if (state.recording()) {
        return new DiskPlan(name, DiskDecision.INCREMENTAL, "since checkpoint '" + base.path.get(0) + "'", union);
      }
    }
    return full(name, DiskDecision.BITMAP_NOT_RECORDING, "bitmaps '" + String.join("', '", union) + "' are all disabled");
  }

  /** The bitmap that tracks {@code disk} in the named checkpoint of the path, if it is tracked. */
  private Optional<String> bitmapOf(String checkpointName, String disk, BaseBackup x, Checkpoint y) {
    Checkpoint c;
    if (checkpointName.equals(y.name())) {
      c = y;
    } else if (checkpointName.equals(x.checkpoint().name())) {
      c = x.checkpoint();
    } else {
      c = knownCheckpoints.get(checkpointName);
    }
    return c.disk(disk)
        .filter(d -> d.type() == CheckpointType.BITMAP)
        .map(d -> d.bitmap().orElse(checkpointName));
  }

  /**
   * How {@code disk}'s image changed between checkpoint {@code base} and the domain definition {@code
   * now}, when both name its source and the base's is neither the source now nor in the backing chain
   * {@code now} declares (an external snapshot keeps the old image below the new one: that is no
   * replacement). Empty when not replaced, or when either lacks the source.
   */
  public static Optional<String> replacedImage(Checkpoint base, DomainDefinition now, String disk) {
    Optional<String> then = base.domain().flatMap(d -> d.disk(disk)).flatMap(DomainDisk::source);
    Optional<String> current = now.disk(disk).flatMap(DomainDisk::source);
    if (then.isEmpty() || current.isEmpty() || then.equals(current)) {
      return Optional.empty();
    }
    try {
      if (org.tidemark.xml.DomainXml.backingChain(now, disk).contains(then.get())) {
        return Optional.empty();
      }
    } catch (org.tidemark.xml.CheckpointXmlException e) {
      // a definition that was parsed once parses again; were it not, the sources alone decide
    }
    return Optional.of("image " + then.get() + " at checkpoint '" + base.name() + "', " + current.get() + " now");
  }

  /** Walks Y's ancestors until one has a backup; records the path or the missing link. */
  private Base findBase(Checkpoint y) {
    List<String> reversed = new ArrayList<>();
    reversed.add(y.name());
    Set<String> seen = new HashSet<>(reversed);
    Optional<String> parent = y.parentName();
    while (parent.isPresent()) {
      String p = parent.get();
      if (!seen.add(p)) {
        return new Base(Optional.empty(), List.of(y.name()), p);
      }
      reversed.add(p);
      Optional<BaseBackup> backup = repository.backupOf(p);
      if (backup.isPresent()) {
        Collections.reverse(reversed);
        return new Base(backup, reversed, "");
      }
      Checkpoint known = knownCheckpoints.get(p);
      if (known == null) {
        return new Base(Optional.empty(), List.of(y.name()), p);
      }
      parent = known.parentName();
    }
    return new Base(Optional.empty(), List.of(y.name()), "");
  }

  /** The disks of Y's domain, or of the checkpoint itself when it was saved without its domain. */
  private static List<DomainDisk> disksOf(Checkpoint y) {
    if (y.domain().isPresent()) {
      return y.domain().get().disks();
    }
    return y.disks().stream()
        .map(d -> new DomainDisk(d.name(), Optional.empty(), Optional.empty(), "disk", false, false))
        .toList();
  }

  private static DiskPlan full(String disk, DiskDecision decision, String detail) {
    return new DiskPlan(disk, decision, detail, List.of());
  }

  /** The base found for Y: the backup, the checkpoint path to Y, or the first unknown ancestor. */
  private record Base(Optional<BaseBackup> backup, List<String> path, String missing) {}
}
