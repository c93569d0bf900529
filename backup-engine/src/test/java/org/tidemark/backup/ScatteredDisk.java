package org.tidemark.backup;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;

/**
 * A large disk whose bytes are computed, not stored, with clusters scattered as a fragmented
 * allocation map and a bitmap with every other granule dirty make them. Generation 1: the even
 * clusters hold data, the odd ones are unallocated (zeros). Generation 2: the odd clusters were
 * written too (each one dirty in bitmap {@code cp1}), the even ones unchanged. Each cluster's data
 * starts with its index and the generation that wrote it, so a cluster restored in the wrong place
 * or from the wrong backup is caught; the rest is a pattern that compresses.
 */
class ScatteredDisk implements DiskSource {
  final long size;
  final int cluster;
  volatile int generation = 1;

  ScatteredDisk(long size, int cluster) {
    this.size = size;
    this.cluster = cluster;
  }

  /** The guest bytes at generation {@code g} from {@code offset}, into {@code dst}. */
  void bytes(int g, long offset, byte[] dst, int length) {
    for (int i = 0; i < length; i++) {
      long x = offset + i;
      long c = x / cluster;
      int in = (int) (x % cluster);
      int wrote = c % 2 == 0 ? 1 : g >= 2 ? 2 : 0;
      if (wrote == 0) {
        dst[i] = 0;
      } else if (in < 8) {
        dst[i] = (byte) ((c << 8 | wrote) >>> (8 * in));
      } else {
        dst[i] = (byte) (in * 7 + wrote);
      }
    }
  }

  @Override
  public String description() {
    return "scattered disk";
  }

  @Override
  public long virtualSize() {
    return size;
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) {
    byte[] b = new byte[dst.remaining()];
    bytes(generation, offset, b, b.length);
    dst.put(b);
  }

  @Override
  public List<Extent> allocation() {
    if (generation >= 2) {
      return List.of(new Extent(0, size, false));
    }
    List<Extent> out = new ArrayList<>();
    for (long off = 0; off < size; off += cluster) {
      out.add(new Extent(off, Math.min(cluster, size - off), (off / cluster) % 2 == 1));
    }
    return out;
  }

  @Override
  public List<Extent> dirtyExtents(List<String> names) {
    List<Extent> out = new ArrayList<>();
    if (generation >= 2) {
      for (long off = cluster; off < size; off += 2L * cluster) {
        out.add(new Extent(off, Math.min(cluster, size - off), false));
      }
    }
    return out;
  }

  @Override
  public BitmapState bitmap(String name) {
    return new BitmapState(true, false, false, true);
  }

  @Override
  public void close() {}
}
