package org.tidemark.disk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tidemark.qcow2.Qcow2Image;

/** Opens a disk image read-only whatever its format: qcow2 when the file starts with qcow2's magic, raw otherwise. */
public final class Images {
  private Images() {}

  /** Opens {@code path} read-only as a {@link DiskSource}, backing files in its folder tree only. */
  public static DiskSource open(Path path) throws IOException {
    return open(path, org.tidemark.qcow2.BackingPolicy.sameTree());
  }

  /** Opens {@code path} read-only as a {@link DiskSource}, following the backing files {@code policy} allows. */
  public static DiskSource open(Path path, org.tidemark.qcow2.BackingPolicy policy) throws IOException {
    ImageFiles.requireDiskFile(path, path, "image"); // before its first bytes are read: a FIFO would block
    byte[] magic;
    try (InputStream in = Files.newInputStream(path)) {
      magic = in.readNBytes(4);
    }
    if (magic.length == 4 && ByteBuffer.wrap(magic).getInt() == 0x514649fb) {
      return Qcow2Image.open(path, policy);
    }
    return RawImage.open(path);
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
