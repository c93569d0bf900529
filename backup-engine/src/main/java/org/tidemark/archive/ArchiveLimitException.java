package org.tidemark.archive;

import java.nio.file.Path;

/**
 * A backup that would break one of the archive format's limits ({@link ArchiveLimits}): a disk
 * too large, too many chunks, a metadata entry past {@link ArchiveLimits#MAX_METADATA}. Thrown
 * before the archive is committed, so nothing is left under its name; the message names what is
 * too large, by how much, and the limit.
 */
public class ArchiveLimitException extends ArchiveException {
  /** A limit that the archive to be written at {@code archive} would break. */
  public ArchiveLimitException(Path archive, String message) {
    super(archive, message);
  }

  /** A limit that the archive to be written at {@code archive} would break at {@code where}. */
  public ArchiveLimitException(Path archive, Where where, String message) {
    super(archive, where, message);
  }
}
