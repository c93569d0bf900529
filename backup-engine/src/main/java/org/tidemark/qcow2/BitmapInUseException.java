package org.tidemark.qcow2;

import java.nio.file.Path;

/**
 * A persistent bitmap carries the {@code in_use} flag: a QEMU (or qemu-nbd) has the image open for
 * writing and keeps the bitmap's current content in memory, or one had it and was not closed
 * cleanly. The bitmap in the file is stale either way, so its dirty extents are refused rather than
 * answered: a backup built on them would miss writes.
 */
public class BitmapInUseException extends Qcow2Exception {
  private final String bitmap;

  /** Bitmap {@code bitmap} of {@code file} (the layer that carries the flag) is in use. */
  public BitmapInUseException(Path file, String bitmap) {
    super(file, "bitmap '" + bitmap + "' is in use by a running QEMU (or was not closed cleanly): its extents are"
        + " not trustworthy (stop the writer, or take a full backup)");
    this.bitmap = bitmap;
  }

  /** The bitmap's name. */
  public String bitmap() {
    return bitmap;
  }
}
