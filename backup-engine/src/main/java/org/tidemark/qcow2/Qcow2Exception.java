package org.tidemark.qcow2;

import java.nio.file.Path;
import org.tidemark.disk.ImageException;

/**
 * A qcow2 image cannot be read: the base of the qcow2 reader's own typed errors. The message starts
 * with the file. The reader also throws {@link org.tidemark.disk.UnsupportedImageException}, which
 * is an {@link ImageException} too.
 */
public class Qcow2Exception extends ImageException {
  private static final long serialVersionUID = 1L;

  /** An error about {@code file}. */
  public Qcow2Exception(Path file, String message) {
    super(file, message);
  }

  /** An error about {@code file} with its cause. */
  public Qcow2Exception(Path file, String message, Throwable cause) {
    super(file, message, cause);
  }
}
