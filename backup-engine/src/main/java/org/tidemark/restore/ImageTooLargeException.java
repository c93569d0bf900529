package org.tidemark.restore;

import java.nio.file.FileSystemException;

/**
 * The file system of a restore's target does not take a raw image of the disk's size (its file
 * size limit is lower); a qcow2 image, which holds only the data, or another file system does.
 */
public final class ImageTooLargeException extends FileSystemException {
  private static final long serialVersionUID = 1L;
  private final long size;

  /** {@code file} cannot be made {@code size} bytes long; {@code reason} says why. */
  public ImageTooLargeException(String file, long size, String reason) {
    super(file, null, reason);
    this.size = size;
  }

  /** The size the image needed, in bytes. */
  public long size() {
    return size;
  }
}
