package org.tidemark.archive;

import java.nio.file.Path;

/** An archive written in a newer format version than this Tidemark reads: upgrade Tidemark. */
public class ArchiveVersionException extends ArchiveException {
  /** The archive's version and the newest version this reader knows. */
  public ArchiveVersionException(Path archive, int found, int newestKnown) {
    super(
        archive,
        "archive format version " + found + " is newer than this Tidemark reads (up to " + newestKnown
            + "); use a newer Tidemark to read it");
  }
}
