package org.tidemark.disk;

import java.nio.file.FileSystemException;
import java.nio.file.Path;

/**
 * A disk image is in use by another process (a running QEMU, by QEMU's image locks): reading it
 * would copy a torn, stale image. Nothing was read. {@link #getFile()} names the image.
 */
public final class ImageInUseException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** The image and what holds it. */
  public ImageInUseException(Path image, String reason) {
    super(image.toString(), null, reason);
  }
}
