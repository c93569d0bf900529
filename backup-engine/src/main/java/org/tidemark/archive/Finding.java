package org.tidemark.archive;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One problem verification found.
 *
 * @param archive the archive concerned
 * @param where where in the archive, as far as known: the tar entry and file offset, the disk and
 *     guest offset ({@link ArchiveException.Where})
 * @param problem what is wrong, in words
 */
public record Finding(Path archive, ArchiveException.Where where, String problem) {
  /** Checks the fields. */
  public Finding {
    Objects.requireNonNull(archive, "archive");
    Objects.requireNonNull(where, "where");
  }

  /** A problem at {@code disk} and guest {@code offset} where known, in no entry or file offset in particular. */
  public Finding(Path archive, Optional<String> disk, OptionalLong offset, String problem) {
    this(archive, new ArchiveException.Where(Optional.empty(), disk, offset, OptionalLong.empty()), problem);
  }

  /** A problem with the archive as a whole. */
  static Finding of(Path archive, String problem) {
    return new Finding(archive, ArchiveException.Where.ARCHIVE, problem);
  }

  /** The problem an archive exception describes, with where it is: its fields, never its text. */
  public static Finding of(ArchiveException e) {
    return new Finding(e.archive(), e.where(), e.detail());
  }

  /** A problem at a guest offset of a disk. */
  static Finding at(Path archive, String disk, long offset, String problem) {
    return new Finding(archive, Optional.of(disk), OptionalLong.of(offset), problem);
  }

  /** The disk concerned, if the problem is in a disk's data or metadata. */
  public Optional<String> disk() {
    return where.disk();
  }

  /** The guest offset concerned, if any. */
  public OptionalLong offset() {
    return where.offset();
  }

  /** The tar entry concerned, if known. */
  public Optional<String> entry() {
    return where.entry();
  }

  /** The byte offset in the archive file concerned, if known. */
  public OptionalLong fileOffset() {
    return where.fileOffset();
  }

  /** One line: archive, disk and offset where known, and the problem (which names the entry and file offset). */
  @Override
  public String toString() {
    return archive + disk().map(d -> ": disk " + d).orElse("")
        + (offset().isPresent() ? " at guest offset " + offset().getAsLong() : "") + ": " + problem;
  }
}
