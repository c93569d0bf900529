package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import org.tidemark.disk.ImageFormats;
import org.tidemark.disk.UnsupportedImageException;

/**
 * The header of a qcow2 image and its extensions, read once from the first 64 KiB of the file and
 * checked field by field (all integers big-endian; see {@code docs/qcow2.md}):
 *
 * <pre>
 * Header (v2: 72 bytes, v3: header_length bytes)
 *   0  u32 magic 'Q' 'F' 'I' 0xfb        36 u32 l1_size
 *   4  u32 version (2 or 3)              40 u64 l1_table_offset
 *   8  u64 backing_file_offset           48 u64 refcount_table_offset
 *   16 u32 backing_file_size             56 u32 refcount_table_clusters
 *   20 u32 cluster_bits (9..21)          60 u32 nb_snapshots
 *   24 u64 size (virtual, bytes)         64 u64 snapshots_offset
 *   32 u32 crypt_method (0 = none)
 *   v3: 72 u64 incompatible_features  80 u64 compatible_features  88 u64 autoclear_features
 *       96 u32 refcount_order  100 u32 header_length  104 u8 compression_type (0 zlib, 1 zstd)
 * Extensions, from the end of the header: { u32 type, u32 length, data, pad to 8 }*, type 0 ends
 *   0x23852875 bitmaps: u32 nb_bitmaps, u32 reserved, u64 directory_size, u64 directory_offset
 *   0xe2792aca backing format: "qcow2" or "raw"
 *   0x44415441 external data file name (incompatible bit 2)
 * L1 entry (u64): bits 9..55 L2 table offset (0: unallocated)
 * L2 entry (u64): bit 62 compressed; standard: bits 9..55 host offset, bit 0 reads as zeros;
 *   compressed: bits 0..x-1 host offset, bits x..61 extra 512-byte sectors, x = 62 - (cluster_bits - 8)
 * Bitmap directory entry: u64 table_offset, u32 table_size, u32 flags (bit 0 in_use, bit 1 auto),
 *   u8 type (1), u8 granularity_bits, u16 name_size, u32 extra_data_size, extra data, name, pad to 8
 * Bitmap table entry (u64): bits 9..55 offset of a cluster of bitmap data; offset 0: all bits 0,
 *   or all bits 1 when bit 0 is set. Bit i (LSB first) covers guest bytes [i*g, (i+1)*g).
 * </pre>
 *
 * <p>Encryption, unknown incompatible features and unknown compression types are refused with an
 * {@link UnsupportedImageException}; a field out of its range is a {@link CorruptImageException}.
 * Immutable.
 */
final class Qcow2Header {
  static final int BITMAPS_EXTENSION = 0x23852875;
  private static final int BACKING_FORMAT_EXTENSION = 0xe2792aca;
  private static final int DATA_FILE_EXTENSION = 0x44415441;
  private static final long KNOWN_INCOMPATIBLE = 0b11111; // dirty, corrupt, data file, compression type, extended L2

  private final Path path;
  /** The header cluster as read: up to 64 KiB, for the extensions. */
  private final ByteBuffer h;
  final int version;
  final long backingOffset;
  final int clusterBits;
  final int clusterSize;
  final long size;
  final long incompatibleFeatures;
  final long compatibleFeatures;
  final long autoclearFeatures;
  final int refcountOrder;
  final int headerLength;
  /** 0 zlib, 1 zstd. */
  final int compressionType;
  final long snapshotCount;
  final long snapshotsOffset;
  /** The external data file name as the header extension stores it; null without one. */
  final String dataFileName;
  final boolean extendedL2;
  /** log2 of the L2 entries per table. */
  final int l2Bits;
  /** log2 of the unit the map is kept in: the cluster, or with extended L2 the subcluster. */
  final int unitBits;
  /** The L1 entries the virtual size needs (all that are read). */
  final int l1Entries;
  final long l1Offset;

  Qcow2Header(ImageFile file) throws IOException {
    path = file.path();
    h = file.read(0, (int) Math.min(file.size(), 65536), "header");
    if (h.limit() < 72 || h.getInt(0) != ImageFormats.QCOW2_MAGIC) {
      throw new CorruptImageException(path, "not a qcow2 image: the header's magic is "
          + (h.limit() >= 4 ? String.format("0x%08x", h.getInt(0)) : "missing")
          + String.format(" (expected 0x%08x, 'QFI\\xfb')", ImageFormats.QCOW2_MAGIC));
    }
    version = h.getInt(4);
    if (version != 2 && version != 3) {
      throw new UnsupportedImageException(path, "qcow2 version " + version + " (expected 2 or 3)");
    }
    backingOffset = h.getLong(8);
    clusterBits = h.getInt(20);
    if (clusterBits < 9 || clusterBits > 21) {
      throw new CorruptImageException(path, "header: cluster_bits " + clusterBits + " (expected 9 to 21)");
    }
    clusterSize = 1 << clusterBits;
    size = h.getLong(24);
    if (size < 0 || size > (1L << 56)) {
      throw new CorruptImageException(path, "header: virtual size " + size + " (expected 0 to 2^56)");
    }
    int crypt = h.getInt(32);
    if (crypt != 0) {
      throw new UnsupportedImageException(path, "encrypted image (crypt_method " + crypt + (crypt == 1 ? ", AES" : crypt == 2 ? ", LUKS" : "")
          + "): Tidemark does not read encrypted images");
    }
    long incompatible = 0;
    long compatible = 0;
    long autoclear = 0;
    int refcounts = 4;
    int length = 72;
    int compression = 0;
    if (version == 3) {
      if (h.limit() < 104) {
        throw new CorruptImageException(path, "header: v3 header cut short at " + h.limit() + " bytes (expected at least 104)");
      }
      incompatible = h.getLong(72);
      compatible = h.getLong(80);
      autoclear = h.getLong(88);
      refcounts = h.getInt(96);
      if (refcounts < 0 || refcounts > 6) {
        throw new CorruptImageException(path, "header: refcount_order " + refcounts + " (expected 0 to 6)");
      }
      length = h.getInt(100);
      if (length < 104 || length > h.limit()) {
        throw new CorruptImageException(path, "header: header_length " + length + " (expected 104 to " + h.limit() + ")");
      }
      if (length > 104) {
        compression = h.get(104) & 0xff;
      }
    }
    long unknown = incompatible & ~KNOWN_INCOMPATIBLE;
    if (unknown != 0) {
      throw new UnsupportedImageException(path, "unknown incompatible feature bits 0x" + Long.toHexString(unknown));
    }
    headerLength = length;
    snapshotCount = h.getInt(60) & 0xffffffffL;
    snapshotsOffset = h.getLong(64);
    incompatibleFeatures = incompatible;
    compatibleFeatures = compatible;
    autoclearFeatures = autoclear;
    refcountOrder = refcounts;
    if ((incompatible & 0b100) != 0) {
      dataFileName = extensionText(DATA_FILE_EXTENSION)
          .orElseThrow(() -> new CorruptImageException(path, "header: incompatible feature bit 2 (external data file) is set"
              + " but there is no data file name extension 0x44415441"));
      if (dataFileName.isEmpty()) {
        throw new CorruptImageException(path, "header extension 0x44415441: the external data file name is empty");
      }
    } else {
      dataFileName = null;
    }
    extendedL2 = (incompatible & 0b10000) != 0;
    if (extendedL2 && clusterBits < 14) {
      throw new CorruptImageException(path, "header: extended L2 entries need clusters of at least 16 KiB, not " + clusterSize);
    }
    l2Bits = clusterBits - (extendedL2 ? 4 : 3);
    unitBits = extendedL2 ? clusterBits - 5 : clusterBits;
    if (compression > 1) {
      throw new UnsupportedImageException(path, "compression type " + compression + " (expected 0 zlib or 1 zstd)");
    }
    compressionType = (incompatible & 0b1000) != 0 ? compression : 0;

    long l2Entries = 1L << l2Bits;
    long needed = size == 0 ? 0 : ((size + clusterSize - 1) / clusterSize + l2Entries - 1) / l2Entries;
    long l1Size = h.getInt(36) & 0xffffffffL;
    l1Offset = h.getLong(40);
    if (l1Size < needed || l1Size * 8 > Qcow2Image.MAX_TABLE_BYTES) {
      throw new CorruptImageException(path, "header: l1_size " + l1Size + " (expected " + needed + " to "
          + Qcow2Image.MAX_TABLE_BYTES / 8 + " for virtual size " + size + ")");
    }
    file.checkRange(l1Offset, l1Size * 8, "L1 table", clusterSize);
    l1Entries = (int) needed;
  }

  /** The {offset, length} of a header extension's data in the header cluster, if the image has it. */
  Optional<int[]> extension(int wanted) throws CorruptImageException {
    int pos = headerLength;
    while (pos + 8 <= h.limit()) {
      int type = h.getInt(pos);
      long length = h.getInt(pos + 4) & 0xffffffffL;
      if (type == 0) {
        break;
      }
      if (pos + 8 + length > h.limit()) {
        throw new CorruptImageException(path, String.format("header extension 0x%08x at %d: length %d runs past the header cluster", type, pos, length));
      }
      if (type == wanted) {
        return Optional.of(new int[] {pos + 8, (int) length});
      }
      pos += 8 + (int) ((length + 7) & ~7L);
    }
    return Optional.empty();
  }

  /** A header extension's data as UTF-8 text, if the image has it. */
  private Optional<String> extensionText(int wanted) throws CorruptImageException {
    return extension(wanted).map(e -> new String(h.array(), e[0], e[1], StandardCharsets.UTF_8));
  }

  /** The header cluster as read (absolute indexes; read-only use). */
  ByteBuffer bytes() {
    return h;
  }

  /** The backing file name the header stores; only when {@link #backingOffset} is not 0. */
  String backingName(ImageFile file) throws IOException {
    long nameSize = h.getInt(16) & 0xffffffffL;
    if (nameSize == 0 || nameSize > 1023) {
      throw new CorruptImageException(path, "header: backing_file_size " + nameSize + " (expected 1 to 1023)");
    }
    file.checkRange(backingOffset, nameSize, "backing file name", 0);
    return new String(file.read(backingOffset, (int) nameSize, "backing file name").array(), StandardCharsets.UTF_8);
  }

  /** The backing format extension's text ("qcow2", "raw"); null when the header names none. */
  String backingFormat() throws CorruptImageException {
    return extensionText(BACKING_FORMAT_EXTENSION).orElse(null);
  }
}
