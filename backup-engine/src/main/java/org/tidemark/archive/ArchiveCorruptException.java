package org.tidemark.archive;

import java.nio.file.Path;

/**
 * An archive's bytes are not what its writer wrote: a checksum mismatch, a truncated file, an entry
 * out of place, a manifest that contradicts itself. The message names the entry, the file offset,
 * the disk and the guest offset where they are known, and so do the fields ({@link #where()}).
 */
public class ArchiveCorruptException extends ArchiveException {
  /** A corruption found in {@code archive}. */
  public ArchiveCorruptException(Path archive, String message) {
    super(archive, message);
  }

  /** A corruption found in {@code archive}, detected through {@code cause}. */
  public ArchiveCorruptException(Path archive, String message, Throwable cause) {
    super(archive, message, cause);
  }

  /** A corruption found at {@code where} in {@code archive}. */
  public ArchiveCorruptException(Path archive, Where where, String message) {
    super(archive, where, message, null);
  }

  /** A corruption found at {@code where} in {@code archive}, detected through {@code cause} (or null). */
  public ArchiveCorruptException(Path archive, Where where, String message, Throwable cause) {
    super(archive, where, message, cause);
  }
}
