package org.tidemark.disk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tidemark.internal.FileKinds;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.UnsupportedImageException;

/** Opens a disk image read-only whatever its format: qcow2 when the file starts with qcow2's magic, raw otherwise. */
public final class Images {
  private Images() {}

  /** Opens {@code path} read-only as a {@link DiskSource}. */
  public static DiskSource open(Path path) throws IOException {
    requireImageFile(path);
    byte[] magic;
    try (InputStream in = Files.newInputStream(path)) {
      magic = in.readNBytes(4);
    }
    if (magic.length == 4 && ByteBuffer.wrap(magic).getInt() == 0x514649fb) {
      return Qcow2Image.open(path);
    }
    return RawImage.open(path);
  }

  /**
   * Refuses, before anything opens it, a path no image can be read from: only a regular file or a
   * block device (links followed) is a disk image. Opening a FIFO for reading blocks until a writer
   * comes, a character device such as {@code /dev/zero} reads without end, a folder or socket does
   * not read. Reads the file's attributes only.
   *
   * @throws UnsupportedImageException naming the path and what it is
   * @throws java.nio.file.NoSuchFileException when nothing is there
   */
  public static void requireImageFile(Path path) throws IOException {
    String kind = FileKinds.notRegular(path, true);
    if (kind != null) {
      throw new UnsupportedImageException(path, "is " + kind + ", not a regular file or block device (a disk image is"
          + " one of these; opening it could block or read without end)");
    }
  }

  /**
   * The first guest offset where two sources differ, or -1 when they are identical (same size,
   * same bytes). Reads both in 4 MiB steps.
   */
  public static long firstDifference(DiskSource a, DiskSource b) throws IOException {
    if (a.virtualSize() != b.virtualSize()) {
      return Math.min(a.virtualSize(), b.virtualSize());
    }
    int step = 4 << 20;
    ByteBuffer x = ByteBuffer.allocate(step);
    ByteBuffer y = ByteBuffer.allocate(step);
    for (long off = 0; off < a.virtualSize(); off += step) {
      int n = (int) Math.min(step, a.virtualSize() - off);
      x.clear().limit(n);
      y.clear().limit(n);
      a.readFully(off, x);
      b.readFully(off, y);
      int m = x.flip().mismatch(y.flip());
      if (m >= 0) {
        return off + m;
      }
    }
    return -1;
  }
}
