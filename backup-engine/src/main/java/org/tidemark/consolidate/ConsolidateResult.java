package org.tidemark.consolidate;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * What a consolidation did.
 *
 * @param checkpoint the point consolidated
 * @param archive its archive, the same file before and after
 * @param chain the archives the new full was built from, newest first (the point's chain before);
 *     just the archive itself when it was full already
 * @param consolidated whether the archive was rewritten; false when it was a full backup already
 *     (nothing to do)
 * @param sizeBefore the archive's size in bytes before
 * @param sizeAfter its size after (the same when nothing was done)
 * @param disks per disk: guest bytes of data and chunks written
 * @param leftoversRemoved the temporary files of killed writers removed from the domain's folder
 * @param duration wall-clock time
 */
public record ConsolidateResult(String checkpoint, Path archive, List<Path> chain, boolean consolidated,
    long sizeBefore, long sizeAfter, List<DiskResult> disks, List<Path> leftoversRemoved, Duration duration) {
  /** Freezes the lists. */
  public ConsolidateResult {
    chain = List.copyOf(chain);
    disks = List.copyOf(disks);
    leftoversRemoved = List.copyOf(leftoversRemoved);
  }

  /**
   * One disk of the new archive.
   *
   * @param disk the disk name
   * @param virtualSize its size
   * @param dataBytes guest bytes stored as data (the rest are zero extents, holes)
   * @param chunks chunks written
   * @param chunksCopied of those, the chunks of the chain copied as they are (not decoded and
   *     encoded again)
   * @param storedBytes bytes those chunks take in the archive
   */
  public record DiskResult(String disk, long virtualSize, long dataBytes, int chunks, int chunksCopied,
      long storedBytes) {}
}
