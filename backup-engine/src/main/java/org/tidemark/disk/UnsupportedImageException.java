package org.tidemark.disk;

import java.nio.file.Path;

/**
 * The image is valid but uses a feature or format a reader refuses (qcow2 encryption, an unknown
 * incompatible feature, a declared format other than qcow2 or raw), or the path is not a regular
 * file or block device.
 */
public class UnsupportedImageException extends ImageException {
  private static final long serialVersionUID = 1L;

  /** A feature of {@code file} that cannot be read. */
  public UnsupportedImageException(Path file, String message) {
    super(file, message);
  }
}
