package org.tidemark.backup;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a backup did.
 *
 * @param archive the archive written
 * @param plan the decisions taken
 * @param disks per disk copied: bytes read and stored, extents
 * @param archiveBytes the archive's size
 * @param duration wall-clock time
 * @param warnings what the run found worth a look besides the decisions (a newer archive that
 *     could not serve as the base)
 */
public record BackupResult(Path archive, BackupPlan plan, List<DiskResult> disks, long archiveBytes, Duration duration,
    List<String> warnings) {
  /** Freezes the lists. */
  public BackupResult {
    disks = List.copyOf(disks);
    warnings = List.copyOf(warnings);
  }

  /**
   * One disk copied.
   *
   * @param disk the disk name
   * @param plan the decision for it
   * @param extents extents recorded (data and zero)
   * @param bytesRead guest bytes read from the image
   * @param bytesStored bytes of compressed chunk data written
   * @param chunks chunks written
   */
  public record DiskResult(String disk, DiskPlan plan, int extents, long bytesRead, long bytesStored, int chunks) {}
}
