package org.tidemark.disk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one place that tells image formats apart by their first bytes: qcow2 starts with {@link
 * #QCOW2_MAGIC}, anything else is raw. The qcow2 reader and writer use the same constant.
 */
public final class ImageFormats {
  /** qcow2's magic, the big-endian u32 at offset 0: {@code 'Q' 'F' 'I' 0xfb}. */
  public static final int QCOW2_MAGIC = 0x514649fb;

  /** The format name of a qcow2 image (as libvirt's {@code <driver type>} and QEMU spell it). */
  public static final String QCOW2 = "qcow2";

  /** The format name of a raw image. */
  public static final String RAW = "raw";

  private ImageFormats() {}

  /** Whether {@code firstBytes} (at least 4 of them from offset 0) start with qcow2's magic. */
  public static boolean isQcow2(byte[] firstBytes) {
    return firstBytes.length >= 4 && ByteBuffer.wrap(firstBytes).getInt() == QCOW2_MAGIC;
  }

  /**
   * The format of {@code file} by its first bytes: {@link #QCOW2} when they are qcow2's magic, else
   * {@link #RAW} (also for a file shorter than 4 bytes). Reads at most 4 bytes; the caller checks
   * first that the file is one to read (a FIFO would block).
   *
   * @throws IOException when the file cannot be read
   */
  public static String probe(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return isQcow2(in.readNBytes(4)) ? QCOW2 : RAW;
    }
  }
}
