package org.tidemark.archive;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One problem verification found.
 *
 * @param archive the archive concerned
 * @param disk the disk concerned, if the problem is in a disk's data or metadata
 * @param offset the guest offset concerned, if any
 * @param problem what is wrong, in words
 */
public record Finding(Path archive, Optional<String> disk, OptionalLong offset, String problem) {
  /** A problem with the archive as a whole. */
  static Finding of(Path archive, String problem) {
    return new Finding(archive, Optional.empty(), OptionalLong.empty(), problem);
  }

  /** The problem an archive exception describes, with its disk and offset where it names them. */
  public static Finding of(ArchiveException e) {
    return new Finding(e.archive(), e.disk(), e.offset(), e.detail());
  }

  /** A problem at a guest offset of a disk. */
  static Finding at(Path archive, String disk, long offset, String problem) {
    return new Finding(archive, Optional.of(disk), OptionalLong.of(offset), problem);
  }

  /** One line: archive, disk and offset where known, and the problem. */
  @Override
  public String toString() {
    return archive + disk.map(d -> ": disk " + d).orElse("")
        + (offset.isPresent() ? " at guest offset " + offset.getAsLong() : "") + ": " + problem;
  }
}
