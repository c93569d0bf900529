package org.tidemark.archive;

import java.nio.file.Path;

/** An archive written in a newer format version than this Tidemark reads: upgrade Tidemark. */
public class ArchiveVersionException extends ArchiveException {
  /** The archive's version and the newest version this reader knows. */
  public ArchiveVersionException(Path archive, int found, int newestKnown) {
    this(archive, Where.ARCHIVE, found, newestKnown);
  }

  /** The archive's version, read at {@code where}, and the newest version this reader knows. */
  public ArchiveVersionException(Path archive, Where where, int found, int newestKnown) {
    super(
        archive,
        where,
        "archive format version " + found + " is newer than this Tidemark reads (up to " + newestKnown
            + "); use a newer Tidemark to read it");
  }
}
