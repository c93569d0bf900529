package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Path;

/** A backup archive cannot be used: the base of the archive module's typed errors. */
public class ArchiveException extends IOException {
  private final Path archive;

  /** An error about {@code archive}; the message is prefixed with the archive's path. */
  public ArchiveException(Path archive, String message) {
    super(archive + ": " + message);
    this.archive = archive;
  }

  /** An error about {@code archive} with a cause. */
  public ArchiveException(Path archive, String message, Throwable cause) {
    super(archive + ": " + message, cause);
    this.archive = archive;
  }

  /** The archive file concerned. */
  public Path archive() {
    return archive;
  }
}
