package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ExtentSet;

/**
 * The persistent dirty bitmaps of one layer: the bitmap directory (read at open when the autoclear
 * bit says it is consistent, checked entry by entry) and each bitmap's dirty extents, read from its
 * bitmap table and data clusters on demand; and the union of bitmaps down a backing chain. An
 * in-use bitmap's extents are refused ({@link BitmapInUseException}): its copy in the file is stale.
 */
final class Bitmaps {
  private static final int MAX_BITMAPS = 65535;

  private final ImageFile file;
  private final Path path;
  private final long size;
  private final int clusterSize;
  private final List<Qcow2Bitmap> list;

  Bitmaps(ImageFile file, Qcow2Header header) throws IOException {
    this.file = file;
    this.path = file.path();
    this.size = header.size;
    this.clusterSize = header.clusterSize;
    boolean valid = (header.autoclearFeatures & 1) != 0;
    this.list = valid ? readBitmaps(header) : List.of();
  }

  /** The bitmaps of the directory; empty when the autoclear bit says it is stale. */
  List<Qcow2Bitmap> list() {
    return list;
  }

  /** The named bitmap, if the layer has it. */
  Optional<Qcow2Bitmap> named(String name) {
    return list.stream().filter(b -> b.name().equals(name)).findFirst();
  }

  private List<Qcow2Bitmap> readBitmaps(Qcow2Header header) throws IOException {
    Optional<int[]> ext = header.extension(Qcow2Header.BITMAPS_EXTENSION);
    ByteBuffer h = header.bytes();
    if (ext.isEmpty()) {
      return List.of();
    }
    int pos = ext.get()[0];
    if (ext.get()[1] < 24) {
      throw new CorruptImageException(path, "bitmaps extension: length " + ext.get()[1] + " (expected 24)");
    }
    int count = h.getInt(pos);
    long dirSize = h.getLong(pos + 8);
    long dirOffset = h.getLong(pos + 16);
    if (count < 0 || count > MAX_BITMAPS || dirSize < 0 || dirSize > Qcow2Image.MAX_TABLE_BYTES) {
      throw new CorruptImageException(path, "bitmaps extension: " + count + " bitmaps in a directory of " + dirSize
          + " bytes (expected at most " + MAX_BITMAPS + " and " + Qcow2Image.MAX_TABLE_BYTES + ")");
    }
    file.checkRange(dirOffset, dirSize, "bitmap directory", 0);
    return parseDirectory(file.read(dirOffset, (int) dirSize, "bitmap directory"), count, dirOffset);
  }

  private List<Qcow2Bitmap> parseDirectory(ByteBuffer dir, int count, long dirOffset) throws IOException {
    List<Qcow2Bitmap> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    int pos = 0;
    for (int i = 0; i < count; i++) {
      String where = "bitmap directory entry " + i + " at 0x" + Long.toHexString(dirOffset + pos);
      if (pos + 24 > dir.limit()) {
        throw new CorruptImageException(path, where + ": past the end of the directory (" + dir.limit() + " bytes)");
      }
      long tableOffset = dir.getLong(pos);
      long tableSize = dir.getInt(pos + 8) & 0xffffffffL;
      int flags = dir.getInt(pos + 12);
      int type = dir.get(pos + 16) & 0xff;
      int granularityBits = dir.get(pos + 17) & 0xff;
      int nameSize = dir.getShort(pos + 18) & 0xffff;
      long extra = dir.getInt(pos + 20) & 0xffffffffL;
      long entryEnd = pos + 24L + extra + nameSize;
      if (entryEnd > dir.limit()) {
        throw new CorruptImageException(path, where + ": name and extra data run past the directory");
      }
      if (type != 1) {
        throw new CorruptImageException(path, where + ": type " + type + " (expected 1, dirty tracking)");
      }
      if ((flags & ~3) != 0) { // bit 2 (extra_data_compatible) included: QEMU reads no extra data and refuses it too
        throw new CorruptImageException(path, where + ": flags 0x" + Integer.toHexString(flags)
            + " (expected only bit 0 in_use and bit 1 auto)");
      }
      if (granularityBits < 9 || granularityBits > 31) {
        throw new CorruptImageException(path, where + ": granularity_bits " + granularityBits + " (expected 9 to 31)");
      }
      long bits = (size + (1L << granularityBits) - 1) >> granularityBits;
      long expectedTable = (bits + 8L * clusterSize - 1) / (8L * clusterSize);
      if (tableSize != expectedTable || tableSize * 8 > Qcow2Image.MAX_TABLE_BYTES) {
        throw new CorruptImageException(path, where + ": bitmap table size " + tableSize + " (expected " + expectedTable + ")");
      }
      file.checkRange(tableOffset, tableSize * 8, where + ": bitmap table", clusterSize);
      byte[] nameBytes = new byte[nameSize];
      dir.get((int) (pos + 24 + extra), nameBytes);
      String name = new String(nameBytes, StandardCharsets.UTF_8);
      if (!names.add(name)) {
        throw new CorruptImageException(path, where + ": bitmap name '" + name + "' appears twice");
      }
      out.add(new Qcow2Bitmap(name, 1L << granularityBits, (flags & 1) != 0, (flags & 2) != 0, tableOffset, (int) tableSize));
      pos = (int) ((entryEnd + 7) & ~7L);
    }
    return List.copyOf(out);
  }

  /**
   * The union of the named bitmaps, each merged down the backing chain: the copies in the top
   * layer and in every layer below it that carries the bitmap without a gap.
   *
   * @throws Qcow2Exception when the top layer lacks one of the bitmaps
   * @throws BitmapInUseException when a layer's copy of one is flagged in use (checked for all
   *     of them before any bitmap data is read)
   */
  static List<Extent> union(Qcow2Image top, List<String> bitmapNames) throws IOException {
    Path path = top.path();
    long size = top.virtualSize();
    ExtentSet runs = new ExtentSet();
    for (String n : bitmapNames) {
      if (top.bitmapNamed(n).isEmpty()) {
        throw new Qcow2Exception(path, "no bitmap named '" + n + "'");
      }
      for (Qcow2Image layer : top.layers()) {
        Optional<Qcow2Bitmap> b = layer.bitmapNamed(n);
        if (b.isEmpty()) {
          break;
        }
        if (b.get().inUse()) {
          throw new BitmapInUseException(layer.path(), n);
        }
      }
    }
    for (String n : bitmapNames) {
      for (Qcow2Image layer : top.layers()) {
        Optional<Qcow2Bitmap> b = layer.bitmapNamed(n);
        if (b.isEmpty()) {
          break;
        }
        for (Extent e : layer.dirtyExtents(b.get())) {
          if (e.offset() < size) {
            runs.add(e.offset(), Math.min(size, e.end()));
          }
        }
      }
    }
    return runs.extents();
  }

  /**
   * The dirty guest ranges of one bitmap of this layer, coalesced, scanned a 64-bit word at a time.
   *
   * @throws BitmapInUseException when the bitmap is flagged in use: its content in the file is stale
   */
  List<Extent> dirtyExtents(Qcow2Bitmap b) throws IOException {
    if (b.inUse()) {
      throw new BitmapInUseException(path, b.name());
    }
    String tableWhere = "bitmap table of '" + b.name() + "' at 0x" + Long.toHexString(b.tableOffset());
    ByteBuffer table = file.read(b.tableOffset(), b.tableSize() * 8, tableWhere);
    long[] entries = new long[b.tableSize()];
    table.asLongBuffer().get(entries);
    ClusterMap.requireDistinct(path, entries, tableWhere, "bitmap data cluster");
    long bitsPerCluster = 8L * clusterSize;
    long totalBits = (size + b.granularity() - 1) / b.granularity();
    DirtyRuns runs = new DirtyRuns(b.granularity(), size);
    ByteBuffer cluster = ByteBuffer.allocate(clusterSize); // one buffer for every data cluster of the table
    for (int i = 0; i < b.tableSize(); i++) {
      long entry = table.getLong(i * 8);
      long firstBit = i * bitsPerCluster;
      long nBits = Math.min(bitsPerCluster, totalBits - firstBit);
      long host = entry & ClusterMap.OFFSET_MASK;
      if (host == 0) {
        runs.fill((entry & 1) != 0, firstBit, firstBit + nBits);
        continue;
      }
      String where = tableWhere + ", entry " + i + ": data cluster at 0x" + Long.toHexString(host);
      if ((entry & 0x1ffL) != 0 || (host & (clusterSize - 1)) != 0) {
        throw new CorruptImageException(path, where + ": entry 0x" + Long.toHexString(entry) + " is not a cluster-aligned offset");
      }
      file.checkRange(host, clusterSize, where, clusterSize);
      file.readInto(host, cluster.clear(), where);
      runs.words(cluster.flip(), firstBit, nBits);
    }
    return runs.finish(totalBits);
  }

}
