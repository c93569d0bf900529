package org.tidemark.restore;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What a restore did.
 *
 * @param checkpoint the checkpoint restored
 * @param chain the archives read, newest first
 * @param disks per disk: the image written and the bytes
 * @param domainXml the domain definition written beside the disks, pointing at the restored
 *     images ({@link org.tidemark.xml.DomainRewriter}); empty when the checkpoint was saved without
 *     its domain (then no definition is written)
 * @param disksLeftOut the writable disks of the definition that were not restored, left out of it
 *     (so that it never points at an original disk)
 * @param duration wall-clock time
 */
public record RestoreResult(String checkpoint, List<Path> chain, List<DiskResult> disks, Optional<Path> domainXml,
    List<String> disksLeftOut, Duration duration) {
  /** Freezes the lists. */
  public RestoreResult {
    chain = List.copyOf(chain);
    disks = List.copyOf(disks);
    disksLeftOut = List.copyOf(disksLeftOut);
  }

  /**
   * One disk restored.
   *
   * @param disk the disk name
   * @param image the image written
   * @param virtualSize its size
   * @param dataBytes guest bytes written from archives (the rest is holes)
   * @param chunksRead chunks read and checked
   * @param format the format the image was written in
   */
  public record DiskResult(String disk, Path image, long virtualSize, long dataBytes, int chunksRead, ImageFormat format) {
    /** A raw image restored. */
    public DiskResult(String disk, Path image, long virtualSize, long dataBytes, int chunksRead) {
      this(disk, image, virtualSize, dataBytes, chunksRead, ImageFormat.RAW);
    }
  }
}
