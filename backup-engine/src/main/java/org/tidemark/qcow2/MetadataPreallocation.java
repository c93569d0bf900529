package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.OptionalLong;

/**
 * Whether an image looks metadata-preallocated, by QEMU's own rule: QEMU asks the file system about
 * holes below a data cluster ({@code SEEK_DATA}, {@code qemu-img map}'s {@code "zero": true,
 * "data": true}) only for such images, where many clusters are referenced but few allocated, and
 * Tidemark asks exactly where QEMU does so that its allocation map is {@code qemu-img map}'s.
 *
 * <p>The rule: with {@code real} the file's allocated bytes ({@code st_blocks}, unwritten extents
 * included) over the cluster size and {@code threshold = max(real * 10 / 9, real + 2)}, the image
 * is preallocated when at least {@code threshold} of the clusters below the file's end have a
 * non-zero refcount. The count stops at the threshold, so the work is bounded by the file's
 * allocation, plus one refcount block read per block's worth of clusters. Unknown allocation, or
 * refcount structures outside the file (where QEMU fails the check), count as not preallocated:
 * the map then reports every data cluster as data, as without a file system that tells holes.
 */
final class MetadataPreallocation {
  private MetadataPreallocation() {}

  /** QEMU's rule on {@code file}, whose holes (and allocation) it asks through {@code file}'s {@code Holes}. */
  static boolean detect(ImageFile file, Qcow2Header header) throws IOException {
    OptionalLong allocated = file.holes().allocatedBytes();
    if (allocated.isEmpty()) {
      return false;
    }
    long cluster = header.clusterSize;
    long real = allocated.getAsLong() / cluster;
    long threshold = Math.max(real * 10 / 9, real + 2);
    long endCluster = (file.size() + cluster - 1) / cluster;
    ByteBuffer h = header.bytes();
    long tableOffset = h.getLong(48);
    long tableEntries = (h.getInt(56) & 0xffffffffL) * cluster / 8;
    int refcountBits = 1 << header.refcountOrder;
    long perBlock = cluster * 8 / refcountBits;
    long count = 0;
    long blockIndex = -1;
    ByteBuffer block = null;
    for (long i = 0; i < endCluster && count < threshold; i++) {
      long b = i / perBlock;
      if (b != blockIndex) {
        blockIndex = b;
        block = refcountBlock(file, tableOffset, tableEntries, b, (int) cluster);
        if (block == BROKEN) {
          return false;
        }
      }
      if (block != null && nonZero(block, i % perBlock, refcountBits)) {
        count++;
      }
    }
    return count >= threshold;
  }

  /** Marks a refcount structure outside the file. */
  private static final ByteBuffer BROKEN = ByteBuffer.allocate(0);

  /** Refcount block {@code b}; null when unallocated (all refcounts 0), {@link #BROKEN} when out of the file. */
  private static ByteBuffer refcountBlock(ImageFile file, long tableOffset, long tableEntries, long b, int cluster)
      throws IOException {
    if (b >= tableEntries) {
      return null;
    }
    long entryAt = tableOffset + b * 8;
    if (tableOffset <= 0 || entryAt < 0 || entryAt > file.size() - 8) {
      return BROKEN;
    }
    long offset = file.read(entryAt, 8, "refcount table entry " + b).getLong(0) & 0xffff_ffff_ffff_fe00L;
    if (offset == 0) {
      return null;
    }
    if (offset > file.size() - cluster || (offset & (cluster - 1)) != 0) {
      return BROKEN;
    }
    return file.read(offset, cluster, "refcount block " + b);
  }

  /** Whether refcount {@code index} of a block of {@code bits}-bit entries (packed LSB first below 8 bits) is not 0. */
  private static boolean nonZero(ByteBuffer block, long index, int bits) {
    if (bits < 8) {
      int v = block.get((int) (index * bits / 8)) & 0xff;
      return (v >>> (int) (index * bits % 8) & ((1 << bits) - 1)) != 0;
    }
    int bytes = bits / 8;
    for (int k = 0; k < bytes; k++) {
      if (block.get((int) (index * bytes) + k) != 0) {
        return true;
      }
    }
    return false;
  }
}
