package org.tidemark.backup;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A backup whose {@link BeforeCommit} check failed: its archive was discarded. The check's exception
 * is the {@linkplain #getCause() cause}, and its message is this exception's message.
 */
public final class BackupAbortedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path archive;

  /** The backup that would have been committed to {@code archive} was aborted by {@code cause}. */
  public BackupAbortedException(Path archive, Exception cause) {
    super(cause.getMessage(), cause);
    this.archive = archive;
  }

  /** The archive path the backup would have had; nothing is there. */
  public Path archive() {
    return archive;
  }
}
