package org.tidemark.restore;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A restore would not fit: the images it writes need more than the usable space of the file system
 * of its output folder. Raised before anything is written.
 */
public final class InsufficientSpaceException extends FileSystemException {
  private static final long serialVersionUID = 1L;
  private final long needed;
  private final long usable;

  /**
   * @param directory the restore's output folder
   * @param needed bytes the images take on disk at most
   * @param usable bytes the file system had usable
   * @param reason the message, naming the file system and the sizes
   */
  public InsufficientSpaceException(Path directory, long needed, long usable, String reason) {
    super(directory.toString(), null, reason);
    this.needed = needed;
    this.usable = usable;
  }

  /** Bytes the restore's images take on disk at most. */
  public long needed() {
    return needed;
  }

  /** Bytes the file system had usable when checked. */
  public long usable() {
    return usable;
  }
}
