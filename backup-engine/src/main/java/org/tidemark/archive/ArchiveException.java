package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A backup archive cannot be used: the base of the archive module's typed errors. Besides its
 * message, it carries where the problem is as fields: the file ({@link #archive()}), and where
 * known the entry, the disk and the guest offset ({@link #where()}); {@link #detail()} is the
 * message without the file's path. Subclasses tell damage ({@link ArchiveCorruptException}) from
 * a request naming what is not there ({@link UnknownPointException}).
 */
public class ArchiveException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Path archive;
  private final String detail;
  private final transient Where where;

  /**
   * Where in an archive a problem is.
   *
   * @param entry the tar entry concerned ({@code checkpoint.xml}, {@code manifest.json}, ...), if known
   * @param disk the disk concerned, if the problem is in a disk's data or metadata
   * @param offset the guest offset concerned, if any
   */
  public record Where(Optional<String> entry, Optional<String> disk, OptionalLong offset) {
    /** The archive as a whole. */
    public static final Where ARCHIVE = new Where(Optional.empty(), Optional.empty(), OptionalLong.empty());

    /** Checks the fields. */
    public Where {
      Objects.requireNonNull(entry, "entry");
      Objects.requireNonNull(disk, "disk");
      Objects.requireNonNull(offset, "offset");
    }

    /** An entry of the archive. */
    public static Where entry(String entry) {
      return new Where(Optional.of(entry), Optional.empty(), OptionalLong.empty());
    }

    /** The chunk of {@code disk} at guest {@code offset}. */
    public static Where chunk(String disk, long offset) {
      return new Where(Optional.empty(), Optional.of(disk), OptionalLong.of(offset));
    }
  }

  /** An error about {@code archive}; the message is prefixed with the archive's path. */
  public ArchiveException(Path archive, String message) {
    this(archive, Where.ARCHIVE, message, null);
  }

  /** An error about {@code archive} with a cause. */
  public ArchiveException(Path archive, String message, Throwable cause) {
    this(archive, Where.ARCHIVE, message, cause);
  }

  /** An error at {@code where} in {@code archive}, with a cause (or null). */
  public ArchiveException(Path archive, Where where, String message, Throwable cause) {
    super(archive + ": " + message, cause);
    this.archive = archive;
    this.detail = message;
    this.where = Objects.requireNonNull(where, "where");
  }

  /** The archive file (or folder) concerned. */
  public Path archive() {
    return archive;
  }

  /** What is wrong, without the file's path. */
  public String detail() {
    return detail;
  }

  /** Where in the archive, as far as known. */
  public Where where() {
    return where;
  }

  /** The tar entry concerned, if known. */
  public Optional<String> entry() {
    return where.entry();
  }

  /** The disk concerned, if known. */
  public Optional<String> disk() {
    return where.disk();
  }

  /** The guest offset concerned, if known. */
  public OptionalLong offset() {
    return where.offset();
  }
}
