package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A backup archive cannot be used: the base of the archive module's typed errors. Besides its
 * message, it carries where the problem is as fields: the file ({@link #archive()}), and where
 * known the tar entry ({@link #entry()}), the byte offset in the archive file ({@link
 * #fileOffset()}), the disk ({@link #disk()}) and the guest offset ({@link #offset()}), together
 * {@link #where()}; {@link #detail()} is the message without the file's path. Callers read these
 * fields, never the message text. Subclasses tell damage ({@link ArchiveCorruptException}) from a
 * request naming what is not there ({@link UnknownPointException}).
 */
public class ArchiveException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient Path archive;
  private final String detail;
  private final transient Where where;

  /**
   * Where in an archive a problem is; each part is empty when unknown or when it does not apply.
   *
   * @param entry the tar entry concerned ({@code checkpoint.xml}, {@code manifest.json}, a chunk's
   *     {@code disks/DISK/OFFSET.EXT}, ...): the entry that the archive's layout puts there, which
   *     a damaged header may name otherwise
   * @param disk the disk concerned, if the problem is in a disk's data or metadata
   * @param offset the guest offset concerned (of a chunk, or of a byte of the disk), if any
   * @param fileOffset the byte offset in the archive file of what is wrong: the start of a tar
   *     header for a problem in a header, the start of an entry's data for a problem in its content
   *     (or of the record in {@code index.bin}), the end of the file for a file cut short
   */
  public record Where(Optional<String> entry, Optional<String> disk, OptionalLong offset, OptionalLong fileOffset) {
    /** The archive as a whole. */
    public static final Where ARCHIVE = new Where(Optional.empty(), Optional.empty(), OptionalLong.empty(),
        OptionalLong.empty());

    /** Checks the fields. */
    public Where {
      Objects.requireNonNull(entry, "entry");
      Objects.requireNonNull(disk, "disk");
      Objects.requireNonNull(offset, "offset");
      Objects.requireNonNull(fileOffset, "fileOffset");
    }

    /** An entry of the archive. */
    public static Where entry(String entry) {
      return new Where(Optional.of(entry), Optional.empty(), OptionalLong.empty(), OptionalLong.empty());
    }

    /** An entry of the archive, at byte {@code fileOffset} of the file (its header, its data, or a byte in it). */
    public static Where entry(String entry, long fileOffset) {
      return new Where(Optional.of(entry), Optional.empty(), OptionalLong.empty(), OptionalLong.of(fileOffset));
    }

    /** Byte {@code fileOffset} of the archive file, in no entry in particular (the end of the file). */
    public static Where file(long fileOffset) {
      return new Where(Optional.empty(), Optional.empty(), OptionalLong.empty(), OptionalLong.of(fileOffset));
    }

    /** The chunk of {@code disk} at guest {@code offset}. */
    public static Where chunk(String disk, long offset) {
      return new Where(Optional.empty(), Optional.of(disk), OptionalLong.of(offset), OptionalLong.empty());
    }

    /** This place, with the disk concerned. */
    public Where withDisk(String disk) {
      return new Where(entry, Optional.of(disk), offset, fileOffset);
    }

    /** This place, with the disk and the guest offset concerned. */
    public Where withGuestOffset(String disk, long offset) {
      return new Where(entry, Optional.of(disk), OptionalLong.of(offset), fileOffset);
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

  /** An error at {@code where} in {@code archive}. */
  public ArchiveException(Path archive, Where where, String message) {
    this(archive, where, message, null);
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

  /** The byte offset in the archive file concerned, if known (see {@link Where#fileOffset}). */
  public OptionalLong fileOffset() {
    return where.fileOffset();
  }
}
