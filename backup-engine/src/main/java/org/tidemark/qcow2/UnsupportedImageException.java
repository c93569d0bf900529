package org.tidemark.qcow2;

import java.nio.file.Path;

/** The image is valid qcow2 but uses a feature this reader refuses (encryption, an unknown incompatible feature). */
public class UnsupportedImageException extends Qcow2Exception {
  /** A feature of {@code file} that cannot be read. */
  public UnsupportedImageException(Path file, String message) {
    super(file, message);
  }
}
