package org.tidemark.disk;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An image cannot be read: the base of the image readers' typed errors (the qcow2 reader's {@code
 * Qcow2Exception}s and {@link UnsupportedImageException}). The message starts with the file.
 */
public class ImageException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  /** An error about {@code file}. */
  public ImageException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  /** An error about {@code file} with its cause. */
  public ImageException(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The image file concerned. */
  public Path file() {
    return file;
  }
}
