package org.tidemark.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;

/**
 * A disk in memory for pipeline tests: guest bytes, an allocation map at cluster granularity and
 * bitmaps that record writes like QEMU's (every enabled bitmap marks each written cluster).
 */
final class MemoryDisk implements DiskSource {
  final int cluster;
  final byte[] bytes;
  final boolean[] allocated;
  final Map<String, TreeSet<Integer>> bitmaps = new HashMap<>();
  final Map<String, Boolean> enabled = new HashMap<>();

  MemoryDisk(int size, int cluster) {
    this.cluster = cluster;
    this.bytes = new byte[size];
    this.allocated = new boolean[(size + cluster - 1) / cluster];
  }

  void addBitmap(String name) {
    bitmaps.put(name, new TreeSet<>());
    enabled.put(name, true);
  }

  /** A guest write of {@code data} at {@code offset}; zeros written with {@code discard} unallocate. */
  void write(int offset, byte[] data, boolean discard) {
    System.arraycopy(data, 0, bytes, offset, data.length);
    for (int c = offset / cluster; c <= (offset + data.length - 1) / cluster; c++) {
      long start = (long) c * cluster;
      long end = Math.min(start + cluster, bytes.length);
      boolean wholeCluster = offset <= start && offset + data.length >= end;
      // a discard unallocates only clusters it covers entirely; a partial one writes zeros
      allocated[c] = !(discard && wholeCluster);
      for (Map.Entry<String, TreeSet<Integer>> b : bitmaps.entrySet()) {
        if (enabled.get(b.getKey())) {
          b.getValue().add(c);
        }
      }
    }
  }

  @Override
  public String description() {
    return "memory disk";
  }

  @Override
  public long virtualSize() {
    return bytes.length;
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) {
    dst.put(bytes, (int) offset, dst.remaining());
  }

  @Override
  public List<Extent> allocation() {
    List<Extent> out = new ArrayList<>();
    for (int c = 0; c < allocated.length; c++) {
      long off = (long) c * cluster;
      out.add(new Extent(off, Math.min(cluster, bytes.length - off), !allocated[c]));
    }
    return out;
  }

  @Override
  public List<Extent> dirtyExtents(List<String> names) {
    TreeSet<Integer> union = new TreeSet<>();
    names.forEach(n -> union.addAll(bitmaps.get(n)));
    List<Extent> out = new ArrayList<>();
    for (int c : union) {
      long off = (long) c * cluster;
      out.add(new Extent(off, Math.min(cluster, bytes.length - off), false));
    }
    return out;
  }

  @Override
  public BitmapState bitmap(String name) {
    return bitmaps.containsKey(name) ? new BitmapState(true, false, false, enabled.get(name)) : BitmapState.MISSING;
  }

  @Override
  public void close() throws IOException {}
}
