package org.tidemark.qcow2;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.tidemark.backup.BitmapState;
import org.tidemark.backup.DiskFacts;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;

/**
 * A qcow2 image opened read-only, read natively with positional reads.
 *
 * <p>The structures it relies on (all integers big-endian; see {@code docs/qcow2.md}):
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
 * L1 entry (u64): bits 9..55 L2 table offset (0: unallocated)
 * L2 entry (u64): bit 62 compressed; standard: bits 9..55 host offset, bit 0 reads as zeros;
 *   compressed: bits 0..x-1 host offset, bits x..61 extra 512-byte sectors, x = 62 - (cluster_bits - 8)
 * Bitmap directory entry: u64 table_offset, u32 table_size, u32 flags (bit 0 in_use, bit 1 auto),
 *   u8 type (1), u8 granularity_bits, u16 name_size, u32 extra_data_size, extra data, name, pad to 8
 * Bitmap table entry (u64): bits 9..55 offset of a cluster of bitmap data; offset 0: all bits 0,
 *   or all bits 1 when bit 0 is set. Bit i (LSB first) covers guest bytes [i*g, (i+1)*g).
 * </pre>
 *
 * <p>Every offset and size read from the file is checked against the file's size and the limits
 * below before it is used: a hostile image gets a {@link CorruptImageException}, never an
 * unchecked exception or an allocation beyond {@value #MAX_TABLE_BYTES} bytes per table. L2 tables
 * and bitmap data clusters shared between entries are refused, so that map and dirty-extent work
 * grow with the file's size (docs/reliability.md).
 * Encryption and unknown incompatible features are refused with an {@link UnsupportedImageException}
 * naming the feature. Backing files (qcow2 or raw), external data files (extension 0x44415441, data
 * clusters read from that file), extended L2 entries and compressed clusters are read. The dirty and
 * corrupt bits do not stop reading: L1/L2 tables stay valid, refcounts are not used.
 *
 * <p>Thread-safe: reads are positional and the L2 cache is synchronized.
 */
public final class Qcow2Image implements DiskSource, DiskFacts {
  /** The largest L1 table, bitmap directory or bitmap table read, in bytes (QEMU's own L1 limit). */
  public static final int MAX_TABLE_BYTES = 32 << 20;
  private static final long L2_CACHE_BYTES = 32L << 20;
  private static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
  private static final int BITMAPS_EXTENSION = 0x23852875;
  private static final int BACKING_FORMAT_EXTENSION = 0xe2792aca;
  private static final int DATA_FILE_EXTENSION = 0x44415441;
  private static final long COPIED = 1L << 63;
  /** The deepest backing chain opened. */
  public static final int MAX_CHAIN = 32;
  private static final int MAX_BITMAPS = 65535;
  private static final long KNOWN_INCOMPATIBLE = 0b11111; // dirty, corrupt, data file, compression type, extended L2

  private final Path path;
  private final FileChannel channel;
  private final long fileSize;
  private final int version;
  private final int clusterBits;
  private final int clusterSize;
  private final long size;
  private final long[] l1;
  private final int compressionType;
  private final List<Qcow2Bitmap> bitmaps;
  private final Map<Long, long[]> l2Cache;
  private final DiskSource backing;
  /** The backing file name as the header stores it; null without a backing file. */
  private final String backingName;
  /** The backing format from the header extension; null when the header does not name one. */
  private final String backingFormat;
  /** The external data file name as the header extension stores it; null without one. */
  private final String dataFileName;
  /** Where data clusters live: {@link #channel}, or the external data file's channel. */
  private final FileChannel data;
  private final Path dataPath;
  private final long dataSize;
  private final long incompatibleFeatures;
  private final long compatibleFeatures;
  private final long autoclearFeatures;
  private final int refcountOrder;
  private final long snapshotCount;
  private final long snapshotsOffset;
  private final boolean extendedL2;
  /** log2 of the L2 entries per table. */
  private final int l2Bits;
  /** log2 of the unit the map is kept in: the cluster, or with extended L2 the subcluster. */
  private final int unitBits;

  private Qcow2Image(Path path, FileChannel channel, List<Path> chain, BackingPolicy policy, Path root) throws IOException {
    this.path = path;
    this.channel = channel;
    this.fileSize = channel.size();
    ByteBuffer h = read(0, (int) Math.min(fileSize, 65536), "header");
    if (h.limit() < 72 || h.getInt(0) != 0x514649fb) {
      throw new CorruptImageException(path, "not a qcow2 image: the header's magic is "
          + (h.limit() >= 4 ? String.format("0x%08x", h.getInt(0)) : "missing") + " (expected 0x514649fb, 'QFI\\xfb')");
    }
    version = h.getInt(4);
    if (version != 2 && version != 3) {
      throw new UnsupportedImageException(path, "qcow2 version " + version + " (expected 2 or 3)");
    }
    long backingOffset = h.getLong(8);
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
    int headerLength = 72;
    int compression = 0;
    if (version == 3) {
      if (h.limit() < 104) {
        throw new CorruptImageException(path, "header: v3 header cut short at " + h.limit() + " bytes (expected at least 104)");
      }
      incompatible = h.getLong(72);
      compatible = h.getLong(80);
      autoclear = h.getLong(88);
      int refcountOrder = h.getInt(96);
      refcounts = refcountOrder;
      if (refcountOrder < 0 || refcountOrder > 6) {
        throw new CorruptImageException(path, "header: refcount_order " + refcountOrder + " (expected 0 to 6)");
      }
      headerLength = h.getInt(100);
      if (headerLength < 104 || headerLength > h.limit()) {
        throw new CorruptImageException(path, "header: header_length " + headerLength + " (expected 104 to " + h.limit() + ")");
      }
      if (headerLength > 104) {
        compression = h.get(104) & 0xff;
      }
    }
    long unknown = incompatible & ~KNOWN_INCOMPATIBLE;
    if (unknown != 0) {
      throw new UnsupportedImageException(path, "unknown incompatible feature bits 0x" + Long.toHexString(unknown));
    }
    snapshotCount = h.getInt(60) & 0xffffffffL;
    snapshotsOffset = h.getLong(64);
    incompatibleFeatures = incompatible;
    compatibleFeatures = compatible;
    autoclearFeatures = autoclear;
    refcountOrder = refcounts;
    if ((incompatible & 0b100) != 0) {
      dataFileName = extension(h, headerLength, DATA_FILE_EXTENSION)
          .map(e -> new String(h.array(), e[0], e[1], StandardCharsets.UTF_8))
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
    long l1Offset = h.getLong(40);
    if (l1Size < needed || l1Size * 8 > MAX_TABLE_BYTES) {
      throw new CorruptImageException(path, "header: l1_size " + l1Size + " (expected " + needed + " to "
          + MAX_TABLE_BYTES / 8 + " for virtual size " + size + ")");
    }
    checkRange(l1Offset, l1Size * 8, "L1 table", true);
    ByteBuffer l1Bytes = read(l1Offset, (int) (needed * 8), "L1 table at 0x" + Long.toHexString(l1Offset));
    l1 = new long[(int) needed];
    for (int i = 0; i < needed; i++) {
      l1[i] = l1Bytes.getLong(i * 8);
    }
    requireDistinct(l1, "L1 table at 0x" + Long.toHexString(l1Offset), "L2 table");
    boolean bitmapsValid = (autoclear & 1) != 0;
    bitmaps = bitmapsValid ? readBitmaps(h, headerLength) : List.of();
    if (backingOffset == 0) {
      backingName = null;
      backingFormat = null;
      backing = null;
    } else {
      backingName = backingName(h, backingOffset);
      backingFormat = extension(h, headerLength, BACKING_FORMAT_EXTENSION)
          .map(e -> new String(h.array(), e[0], e[1], StandardCharsets.UTF_8)).orElse(null);
      backing = openBacking(chain, policy, root);
    }
    if (dataFileName == null) {
      dataPath = path;
      data = channel;
      dataSize = fileSize;
    } else {
      dataPath = resolve(dataFileName, "external data file");
      FileChannel d = null;
      try {
        if (!java.nio.file.Files.exists(dataPath)) {
          throw new CorruptImageException(path, "external data file " + dataPath + " (header extension 0x44415441: '"
              + dataFileName + "') does not exist");
        }
        Path real = dataPath.toRealPath();
        if (!policy.permits(root, real)) {
          throw new BackingFileRefusedException(path, dataPath, "external data file " + dataPath
              + (real.equals(dataPath) ? "" : " (" + real + ")") + " (header extension 0x44415441: '" + dataFileName
              + "') lies outside " + root + ", the top image's folder, and is not among the paths allowed: not read"
              + " (allow it with Qcow2Image.open(image, BackingPolicy.allowing(paths)))");
        }
        org.tidemark.disk.ImageFiles.requireDiskFile(dataPath, path, "external data file");
        d = FileChannel.open(dataPath, StandardOpenOption.READ);
      } catch (IOException | RuntimeException e) {
        if (backing != null) {
          backing.close();
        }
        throw e;
      }
      data = d;
      dataSize = data.size();
    }
    int maxTables = (int) Math.max(1, L2_CACHE_BYTES / clusterSize);
    l2Cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, long[]> e) {
        return size() > maxTables;
      }
    };
  }

  /**
   * Opens an image read-only and reads its header, L1 table and bitmap directory, following backing
   * files in the image's folder tree only ({@link BackingPolicy#sameTree()}).
   *
   * @throws CorruptImageException when a structure is malformed
   * @throws UnsupportedImageException when the image uses a feature this reader refuses, or is not
   *     a regular file or block device ({@link org.tidemark.disk.ImageFiles})
   * @throws BackingFileRefusedException when a backing file lies outside the image's folder tree
   */
  public static Qcow2Image open(Path path) throws IOException {
    return open(path, BackingPolicy.sameTree());
  }

  /**
   * Opens an image read-only, following the backing files {@code policy} allows.
   *
   * @throws CorruptImageException when a structure is malformed
   * @throws UnsupportedImageException when the image uses a feature this reader refuses, or is not
   *     a regular file or block device
   * @throws BackingFileRefusedException when a backing file is one the policy does not allow
   */
  public static Qcow2Image open(Path path, BackingPolicy policy) throws IOException {
    org.tidemark.disk.ImageFiles.requireDiskFile(path, path, "image");
    return open(path, List.of(), policy, path.toRealPath().getParent());
  }

  private static Qcow2Image open(Path path, List<Path> above, BackingPolicy policy, Path root) throws IOException {
    Path real = path.toRealPath();
    if (above.contains(real)) {
      throw new CorruptImageException(above.get(0), "the backing chain loops: " + above + " leads back to " + real);
    }
    if (above.size() >= MAX_CHAIN) {
      throw new UnsupportedImageException(above.get(0), "the backing chain is deeper than " + MAX_CHAIN + " images");
    }
    List<Path> chain = new ArrayList<>(above);
    chain.add(real);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      return new Qcow2Image(path, ch, chain, policy, root);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private String backingName(ByteBuffer h, long nameOffset) throws IOException {
    long nameSize = h.getInt(16) & 0xffffffffL;
    if (nameSize == 0 || nameSize > 1023) {
      throw new CorruptImageException(path, "header: backing_file_size " + nameSize + " (expected 1 to 1023)");
    }
    checkRange(nameOffset, nameSize, "backing file name", false);
    return new String(read(nameOffset, (int) nameSize, "backing file name").array(), StandardCharsets.UTF_8);
  }

  /** A file the header names, relative to the image's folder unless absolute; only local files. */
  private Path resolve(String name, String what) throws Qcow2Exception {
    if (name.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) { // json:, nbd:, http://, ...
      throw new UnsupportedImageException(path, what + " '" + name + "' is not a local file");
    }
    Path named;
    try {
      named = Path.of(name);
    } catch (java.nio.file.InvalidPathException e) {
      throw new CorruptImageException(path, what + " name is not a path: " + e.getReason() + " ("
          + name.length() + " characters)");
    }
    return named.isAbsolute() ? named : path.toAbsolutePath().getParent().resolve(named);
  }

  /**
   * Opens the backing file the header names (qcow2 or raw), below this image in the chain, when
   * the policy allows it ({@code root}: the top image's folder) and it is a regular file or a block
   * device outside the kernel's pseudo file systems.
   */
  private DiskSource openBacking(List<Path> chain, BackingPolicy policy, Path root) throws IOException {
    Path file = resolve(backingName, "backing file");
    if (!java.nio.file.Files.exists(file)) {
      throw new CorruptImageException(path, "backing file " + file + " (header: '" + backingName + "') does not exist");
    }
    Path real = file.toRealPath();
    if (!policy.permits(root, real)) {
      throw new BackingFileRefusedException(path, file, "backing file " + file + (real.equals(file) ? "" : " (" + real + ")")
          + " (header: '" + backingName + "') lies outside " + root + ", the top image's folder, and is not among the"
          + " paths allowed: not followed (allow it with Qcow2Image.open(image, BackingPolicy.allowing(paths)), as a"
          + " backup does for the <backingStore> sources of the domain XML)");
    }
    org.tidemark.disk.ImageFiles.requireDiskFile(file, path, "backing file");
    String fmt = backingFormat != null ? backingFormat : probe(file);
    return switch (fmt) {
      case "qcow2" -> open(file, chain, policy, root);
      case "raw" -> org.tidemark.disk.RawImage.open(file);
      default -> throw new UnsupportedImageException(path, "backing file " + file + " has format '" + fmt + "' (expected qcow2 or raw)");
    };
  }

  /**
   * Refuses a table whose entries share a cluster: QEMU gives every L2 table of the active L1 table,
   * and every data cluster of a bitmap table, a cluster of its own (refcount 1). Shared, one
   * cluster would be walked once per reference, so a small hostile file could stand for an
   * allocation map or dirty-extent list without bound; distinct, the work and memory of {@link
   * #mapEntries} and {@link #dirtyExtents(Qcow2Bitmap)} grow with the file's size.
   */
  private void requireDistinct(long[] entries, String table, String what) throws CorruptImageException {
    long[] offsets = new long[entries.length];
    int n = 0;
    for (long e : entries) {
      if ((e & OFFSET_MASK) != 0) {
        offsets[n++] = e & OFFSET_MASK;
      }
    }
    java.util.Arrays.sort(offsets, 0, n);
    for (int i = 1; i < n; i++) {
      if (offsets[i] == offsets[i - 1]) {
        int first = -1;
        int second = -1;
        for (int k = 0; k < entries.length; k++) {
          if ((entries[k] & OFFSET_MASK) == offsets[i]) {
            if (first < 0) {
              first = k;
            } else {
              second = k;
              break;
            }
          }
        }
        throw new CorruptImageException(path, table + ": entries " + first + " and " + second + " both point to the "
            + what + " at 0x" + Long.toHexString(offsets[i]) + " (expected a cluster of its own for each)");
      }
    }
  }

  private static String probe(Path file) {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      if (java.nio.file.Files.size(file) < 4) { // nothing to probe: a file that claims no bytes is not read
        return "raw";
      }
      byte[] m = in.readNBytes(4);
      return m.length == 4 && ByteBuffer.wrap(m).getInt() == 0x514649fb ? "qcow2" : "raw";
    } catch (IOException e) {
      return "raw";
    }
  }

  /** The {offset, length} of a header extension's data, if the image has it. */
  private Optional<int[]> extension(ByteBuffer h, int headerLength, int wanted) throws CorruptImageException {
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

  private List<Qcow2Bitmap> readBitmaps(ByteBuffer h, int headerLength) throws IOException {
    Optional<int[]> ext = extension(h, headerLength, BITMAPS_EXTENSION);
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
    if (count < 0 || count > MAX_BITMAPS || dirSize < 0 || dirSize > MAX_TABLE_BYTES) {
      throw new CorruptImageException(path, "bitmaps extension: " + count + " bitmaps in a directory of " + dirSize
          + " bytes (expected at most " + MAX_BITMAPS + " and " + MAX_TABLE_BYTES + ")");
    }
    checkRange(dirOffset, dirSize, "bitmap directory", false);
    return parseDirectory(read(dirOffset, (int) dirSize, "bitmap directory"), count, dirOffset);
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
      if (tableSize != expectedTable || tableSize * 8 > MAX_TABLE_BYTES) {
        throw new CorruptImageException(path, where + ": bitmap table size " + tableSize + " (expected " + expectedTable + ")");
      }
      checkRange(tableOffset, tableSize * 8, where + ": bitmap table", true);
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

  /** The image file. */
  public Path path() {
    return path;
  }

  @Override
  public String description() {
    return path.toString();
  }

  @Override
  public long virtualSize() {
    return size;
  }

  /** The cluster size in bytes. */
  public int clusterSize() {
    return clusterSize;
  }

  /** The format version, 2 or 3. */
  public int version() {
    return version;
  }

  /** The backing file name exactly as the header stores it, if the image has a backing file. */
  public Optional<String> backingFileName() {
    return Optional.ofNullable(backingName);
  }

  /** The backing file's format as the header extension names it ("qcow2", "raw"), if it does. */
  public Optional<String> backingFormat() {
    return Optional.ofNullable(backingFormat);
  }

  /** The external data file name exactly as the header extension stores it, if the image has one. */
  public Optional<String> dataFile() {
    return Optional.ofNullable(dataFileName);
  }

  /** The external data file, resolved against the image's folder, if the image has one. */
  public Optional<Path> dataFilePath() {
    return dataFileName == null ? Optional.empty() : Optional.of(dataPath);
  }

  /** Autoclear bit 1: the external data file alone is a valid raw image of the guest disk. */
  public boolean dataFileRaw() {
    return dataFileName != null && (autoclearFeatures & 2) != 0;
  }

  /** Incompatible bit 4: L2 entries carry subcluster bitmaps (32 subclusters per cluster). */
  public boolean extendedL2() {
    return extendedL2;
  }

  /** The compression type of compressed clusters: "zlib" (deflate) or "zstd". */
  public String compressionType() {
    return compressionType == 0 ? "zlib" : "zstd";
  }

  /** Compatible bit 0: refcounts may be updated lazily. */
  public boolean lazyRefcounts() {
    return (compatibleFeatures & 1) != 0;
  }

  /** Incompatible bit 0: the image was not closed cleanly while refcounts were lazy (they may be stale). */
  public boolean dirty() {
    return (incompatibleFeatures & 1) != 0;
  }

  /** Incompatible bit 1: QEMU found the metadata corrupt and marked the image. */
  public boolean corrupt() {
    return (incompatibleFeatures & 2) != 0;
  }

  /** The width of a refcount entry in bits (1 to 64). */
  public int refcountBits() {
    return 1 << refcountOrder;
  }

  /** QEMU's limit on the number of internal snapshots (QCOW_MAX_SNAPSHOTS). */
  private static final int MAX_SNAPSHOTS = 65536;
  /** QEMU's limit on the snapshot table's length in bytes (QCOW_MAX_SNAPSHOTS_SIZE: 1 KiB per snapshot). */
  public static final int MAX_SNAPSHOT_TABLE_BYTES = 64 << 20;
  /** QEMU's limit on a snapshot entry's extra data (QCOW_MAX_SNAPSHOT_EXTRA_DATA). */
  private static final int MAX_SNAPSHOT_EXTRA = 1024;

  /**
   * The internal snapshots, from the snapshot table (read on each call).
   *
   * <pre>
   * Snapshot table entry, from snapshots_offset, each padded to 8 bytes:
   *   0 u64 l1_table_offset  8 u32 l1_size  12 u16 id_str_size  14 u16 name_size
   *   16 u32 date_sec  20 u32 date_nsec  24 u64 vm_clock_nsec  32 u32 vm_state_size
   *   36 u32 extra_data_size, extra data (u64 vm_state_size_large, u64 disk_size, u64 icount), id, name
   * </pre>
   *
   * <p>As QEMU: at most {@value #MAX_SNAPSHOTS} snapshots, {@value #MAX_SNAPSHOT_EXTRA} bytes of
   * extra data each, and a table of at most {@value #MAX_SNAPSHOT_TABLE_BYTES} bytes. The entries'
   * fixed parts are walked first, through one small buffer, so a table beyond the limit is refused
   * before anything is kept of it.
   *
   * @throws CorruptImageException when the table is malformed or beyond those limits
   */
  public List<Qcow2Snapshot> snapshots() throws IOException {
    if (snapshotCount == 0) {
      return List.of();
    }
    String where = "snapshot table at 0x" + Long.toHexString(snapshotsOffset);
    if (snapshotCount > MAX_SNAPSHOTS) {
      throw new CorruptImageException(path, where + ": nb_snapshots " + snapshotCount + " (expected at most " + MAX_SNAPSHOTS + ")");
    }
    checkRange(snapshotsOffset, 0, where, true);
    int n = (int) snapshotCount;
    int[] starts = new int[n];
    ByteBuffer head = ByteBuffer.allocate(40);
    long end = 0; // of the last entry, unpadded, from the table's start
    for (int i = 0; i < n; i++) {
      long start = (end + 7) & ~7L;
      long pos = snapshotsOffset + start;
      String entry = where + ", entry " + i + " at 0x" + Long.toHexString(pos);
      checkRange(pos, 40, entry, false);
      readInto(pos, head.clear(), entry);
      long extraSize = head.getInt(36) & 0xffffffffL;
      if (extraSize > MAX_SNAPSHOT_EXTRA) {
        throw new CorruptImageException(path, entry + ": extra_data_size " + extraSize + " (expected at most " + MAX_SNAPSHOT_EXTRA + ")");
      }
      long total = 40 + extraSize + (head.getShort(12) & 0xffff) + (head.getShort(14) & 0xffff);
      checkRange(pos, total, entry, false);
      end = start + total;
      if (end > MAX_SNAPSHOT_TABLE_BYTES) {
        throw new CorruptImageException(path, where + ": the table of " + n + " entries reaches " + end + " bytes at entry " + i
            + " (expected at most " + MAX_SNAPSHOT_TABLE_BYTES + ", QEMU's limit)");
      }
      starts[i] = (int) start;
    }
    ByteBuffer table = read(snapshotsOffset, (int) end, where);
    List<Qcow2Snapshot> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int p = starts[i];
      int idSize = table.getShort(p + 12) & 0xffff;
      int nameSize = table.getShort(p + 14) & 0xffff;
      int extraSize = table.getInt(p + 36);
      long vmState = table.getInt(p + 32) & 0xffffffffL;
      if (extraSize >= 8) {
        vmState = table.getLong(p + 40);
      }
      java.util.OptionalLong icount = java.util.OptionalLong.empty();
      if (extraSize >= 24 && table.getLong(p + 56) != -1L) {
        icount = java.util.OptionalLong.of(table.getLong(p + 56));
      }
      String id = new String(table.array(), p + 40 + extraSize, idSize, StandardCharsets.UTF_8);
      String name = new String(table.array(), p + 40 + extraSize + idSize, nameSize, StandardCharsets.UTF_8);
      out.add(new Qcow2Snapshot(id, name, table.getInt(p + 16) & 0xffffffffL, table.getInt(p + 20) & 0xffffffffL,
          table.getLong(p + 24), vmState, icount, table.getLong(p), table.getInt(p + 8) & 0xffffffffL));
    }
    return List.copyOf(out);
  }

  /** The persistent bitmaps; empty when the autoclear bit says the directory is stale. */
  public List<Qcow2Bitmap> bitmaps() {
    return bitmaps;
  }

  /** The named bitmap, if the image has it. */
  public Optional<Qcow2Bitmap> bitmapNamed(String name) {
    return bitmaps.stream().filter(b -> b.name().equals(name)).findFirst();
  }

  /** This image and the qcow2 images below it in the backing chain, top first. */
  public List<Qcow2Image> layers() {
    List<Qcow2Image> out = new ArrayList<>();
    for (Qcow2Image q = this; q != null; q = q.backing instanceof Qcow2Image b ? b : null) {
      out.add(q);
    }
    return out;
  }

  /**
   * The state of a bitmap across the backing chain: present when the top layer has it; a gap when
   * a layer lacks it while a layer below has it; in use when any layer carrying it is; recording
   * when the top layer's copy is enabled.
   */
  @Override
  public BitmapState bitmap(String name) {
    boolean present = bitmapNamed(name).isPresent();
    boolean missingAbove = false;
    boolean gap = false;
    boolean inUse = false;
    for (Qcow2Image layer : layers()) {
      Optional<Qcow2Bitmap> b = layer.bitmapNamed(name);
      if (b.isPresent()) {
        gap |= missingAbove;
        inUse |= b.get().inUse();
      } else {
        missingAbove = true;
      }
    }
    if (!present && !gap) {
      return BitmapState.MISSING;
    }
    return new BitmapState(present, gap, inUse, bitmapNamed(name).map(Qcow2Bitmap::auto).orElse(false));
  }

  // ------------------------------------------------------------------ clusters

  /** The L2 entry of guest cluster {@code cluster}; 0 when its L1 entry is unallocated. */
  private long l2Entry(long cluster) throws IOException {
    return l2Word(cluster, 0);
  }

  /** The subcluster bitmap of an extended L2 entry (bits 0..31 allocated, 32..63 zero); 0 otherwise. */
  private long l2SubclusterBitmap(long cluster) throws IOException {
    return extendedL2 ? l2Word(cluster, 1) : 0;
  }

  private long l2Word(long cluster, int word) throws IOException {
    int l1Index = (int) (cluster >>> l2Bits);
    long l2Offset = l1[l1Index] & OFFSET_MASK;
    if (l2Offset == 0) {
      return 0;
    }
    long[] table = l2Table(l1Index, l2Offset);
    int index = (int) (cluster & ((1L << l2Bits) - 1));
    return table[extendedL2 ? 2 * index + word : index];
  }

  private static final int DATA = 0;
  private static final int COMPRESSED = 1;
  private static final int ZERO = 2;
  private static final int UNALLOCATED = 3;

  /** What a unit (cluster, or subcluster with extended L2) holds. */
  private int kind(long unit) throws IOException {
    long cluster = unit >>> (clusterBits - unitBits);
    return kindOf(l2Entry(cluster), l2SubclusterBitmap(cluster), cluster, (int) (unit & 31));
  }

  /**
   * What a unit holds, from its cluster's L2 entry and (extended L2) subcluster bitmap; {@code sub}
   * is the subcluster's index in the cluster (ignored without extended L2).
   */
  private int kindOf(long entry, long bitmap, long cluster, int sub) throws CorruptImageException {
    if ((entry & (1L << 62)) != 0) {
      return COMPRESSED;
    }
    if (!extendedL2) {
      return isData(entry) ? DATA : isUnallocated(entry) ? UNALLOCATED : ZERO;
    }
    if ((bitmap >>> (32 + sub) & 1) != 0) {
      return ZERO;
    }
    if ((bitmap >>> sub & 1) != 0) {
      if (!hasHost(entry)) {
        throw new CorruptImageException(path, "extended L2 entry of guest cluster " + cluster
            + ": subcluster " + sub + " is allocated but the cluster has no host offset");
      }
      return DATA;
    }
    return UNALLOCATED;
  }

  /** The host offset of a data unit's first byte. */
  private long hostOffset(long unit) throws IOException {
    long cluster = unit >>> (clusterBits - unitBits);
    return (l2Entry(cluster) & OFFSET_MASK) + ((unit & ((1L << (clusterBits - unitBits)) - 1)) << unitBits);
  }

  /**
   * The L2 table at {@code l2Offset}, from the cache or read. The cluster is read into a per-thread
   * scratch buffer; a table of zeros only (all entries unallocated: a discarded table, or a table
   * in a hole of a sparse file) is answered with one shared empty table and takes no memory of its
   * own, so a sparse file whose L1 table names thousands of tables in holes costs one read of
   * each and no allocation.
   */
  private long[] l2Table(int l1Index, long l2Offset) throws IOException {
    synchronized (l2Cache) {
      long[] t = l2Cache.get(l2Offset);
      if (t != null) {
        return t;
      }
    }
    String where = "L2 table of L1 index " + l1Index + " at 0x" + Long.toHexString(l2Offset);
    if ((l2Offset & (clusterSize - 1)) != 0) {
      throw new CorruptImageException(path, where + ": not aligned to the cluster size " + clusterSize);
    }
    checkRange(l2Offset, clusterSize, where, true);
    ByteBuffer b = SCRATCH.get();
    if (b.capacity() < clusterSize) {
      b = ByteBuffer.allocateDirect(clusterSize);
      SCRATCH.set(b);
    }
    b.clear().limit(clusterSize);
    readInto(l2Offset, b, where);
    b.flip();
    l2Loads.incrementAndGet();
    long[] t;
    if (b.mismatch(ZERO_CLUSTER.duplicate().limit(clusterSize)) < 0) {
      t = emptyTable(clusterBits);
    } else {
      t = new long[clusterSize / 8];
      b.asLongBuffer().get(t);
    }
    synchronized (l2Cache) {
      l2Cache.put(l2Offset, t);
    }
    return t;
  }

  /** Per-thread buffers L2 tables are read into (the largest cluster read so far). */
  private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));
  /** Zeros to compare a read L2 table with, one cluster of the largest size. */
  private static final ByteBuffer ZERO_CLUSTER = ByteBuffer.allocateDirect(1 << 21).asReadOnlyBuffer();

  /** Whether an L2 entry holds data (standard allocated or compressed) rather than zeros. */
  private boolean isData(long entry) {
    if ((entry & (1L << 62)) != 0) {
      return true;
    }
    return hasHost(entry) && (version == 2 || (entry & 1) == 0);
  }

  /** Whether an L2 entry leaves the cluster to the backing file (no data, no zero flag). */
  private boolean isUnallocated(long entry) {
    return (entry & (1L << 62)) == 0 && !hasHost(entry) && !(version == 3 && (entry & 1) != 0);
  }

  /**
   * Whether a standard L2 entry names a host cluster. Offset 0 means none, except with an external
   * data file, where 0 is a valid data-file offset: there the copied flag (always set, data-file
   * clusters have refcount 1) tells an allocated cluster at offset 0 from an unallocated one.
   */
  private boolean hasHost(long entry) {
    return (entry & OFFSET_MASK) != 0 || (dataFileName != null && (entry & COPIED) != 0);
  }

  @Override
  public List<Extent> allocation() throws IOException {
    List<Extent> out = new ArrayList<>();
    for (MapEntry e : mapEntries()) {
      Extent x = new Extent(e.start(), e.length(), !e.data());
      if (!out.isEmpty() && out.get(out.size() - 1).end() == x.offset() && out.get(out.size() - 1).zero() == x.zero()) {
        Extent last = out.remove(out.size() - 1);
        x = new Extent(last.offset(), last.length() + x.length(), x.zero());
      }
      out.add(x);
    }
    return out;
  }

  /**
   * One run of the allocation map as {@code qemu-img map --output=json} reports it.
   *
   * @param start first guest byte
   * @param length bytes
   * @param depth the layer of the backing chain that defines the range (0: this image)
   * @param present whether the image (not a backing file) defines the range
   * @param zero whether the range reads as zeros
   * @param data whether the range holds data in the file
   * @param offset where a standard data run starts in the file (absent for zeros and compressed data)
   */
  public record MapEntry(
      long start, long length, int depth, boolean present, boolean zero, boolean data, java.util.OptionalLong offset) {}

  /**
   * The allocation map in qemu-img's terms: runs of clusters of one kind, and for standard data
   * clusters contiguous in the file. Memory grows with the number of runs, not the size; work with
   * the allocated clusters and the runs of unallocated L2 entries, each layer of a backing chain
   * being asked only about the ranges the layers above it leave unallocated.
   */
  public List<MapEntry> mapEntries() throws IOException {
    List<MapEntry> out = new ArrayList<>();
    map(0, size, 0, out);
    return out;
  }

  /**
   * Appends the map of guest bytes [from, to) of this layer (inside its virtual size), with depths
   * counted from {@code depth}: a step per allocated unit, a tight scan per run of unallocated L2
   * entries, a step per L1 entry without an L2 table; the gaps are asked of the backing file, for
   * those ranges only.
   */
  private void map(long from, long to, int depth, List<MapEntry> out) throws IOException {
    if (from >= to) {
      return;
    }
    mapBytesAsked.addAndGet(to - from);
    int unitsPerClusterBits = clusterBits - unitBits;
    int spanBits = unitsPerClusterBits + l2Bits; // units per L1 entry
    long unitMask = (1L << unitsPerClusterBits) - 1;
    int words = extendedL2 ? 2 : 1;
    long gapFrom = -1;
    long u = from >>> unitBits;
    long end = ((to - 1) >>> unitBits) + 1;
    while (u < end) {
      int l1Index = (int) (u >>> spanBits);
      long spanEnd = Math.min(end, (long) (l1Index + 1) << spanBits);
      long l2Offset = l1[l1Index] & OFFSET_MASK;
      long[] table = l2Offset == 0 ? null : l2Table(l1Index, l2Offset);
      if (table == null || table == emptyTable(clusterBits)) { // the whole L2 range at once
        gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
        u = spanEnd;
        continue;
      }
      int lastIndex = (int) (((spanEnd - 1) >>> unitsPerClusterBits) & ((1L << l2Bits) - 1));
      while (u < spanEnd) {
        long cluster = u >>> unitsPerClusterBits;
        int index = (int) (cluster & ((1L << l2Bits) - 1));
        long entry = table[index * words];
        long bitmap = extendedL2 ? table[index * words + 1] : 0;
        if (entry == 0 && bitmap == 0) { // unallocated clusters: skip the run of empty entries
          gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
          int k = index + 1;
          while (k <= lastIndex && table[k * words] == 0 && (!extendedL2 || table[k * words + 1] == 0)) {
            k++;
          }
          u = Math.min(spanEnd, (cluster + k - index) << unitsPerClusterBits);
          mapSteps.incrementAndGet();
          continue;
        }
        mapSteps.incrementAndGet();
        int kind = kindOf(entry, bitmap, cluster, (int) (u & 31));
        // with extended L2, qemu-img reports an unallocated subcluster of an allocated cluster (and no
        // backing file) with the host offset it would have: such units are reported, not a gap
        boolean hostedGap = kind == UNALLOCATED && extendedL2 && backing == null && hasHost(entry);
        if (kind == UNALLOCATED && !hostedGap) {
          gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
          u++;
          continue;
        }
        long start = Math.max(from, u << unitBits);
        long stop = Math.min(to, (u + 1) << unitBits);
        if (gapFrom >= 0) {
          fromBelow(out, gapFrom, start, depth);
          gapFrom = -1;
        }
        long clusterHost = entry & OFFSET_MASK;
        long host = clusterHost + ((u & unitMask) << unitBits) + (start - (u << unitBits));
        MapEntry e;
        if (kind == COMPRESSED) {
          e = new MapEntry(start, stop - start, depth, true, false, true, java.util.OptionalLong.empty());
        } else if (kind == DATA) {
          e = new MapEntry(start, stop - start, depth, true, false, true, java.util.OptionalLong.of(host));
        } else {
          e = new MapEntry(start, stop - start, depth, !hostedGap, true, false,
              clusterHost == 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(host));
        }
        appendMap(out, e);
        u++;
      }
    }
    if (gapFrom >= 0) {
      fromBelow(out, gapFrom, to, depth);
    }
  }

  /** The map of [from, to), which this image (at {@code depth}) leaves to its backing file (or to zeros). */
  private void fromBelow(List<MapEntry> out, long from, long to, int depth) throws IOException {
    long backed = backing == null ? from : Math.max(from, Math.min(to, backing.virtualSize()));
    if (backing instanceof Qcow2Image q) {
      if (backed > from) {
        q.map(from, backed, depth + 1, out);
      }
    } else if (backing != null && backed > from) {
      appendMap(out, new MapEntry(from, backed - from, depth + 1, true, false, true, java.util.OptionalLong.of(from)));
    }
    if (backed < to) {
      appendMap(out, new MapEntry(backed, to - backed, depth, false, true, false, java.util.OptionalLong.empty()));
    }
  }

  /** Work counters for tests: guest bytes this layer's map was asked about, steps of its map, L2 tables read. */
  private final java.util.concurrent.atomic.AtomicLong mapBytesAsked = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong mapSteps = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong l2Loads = new java.util.concurrent.atomic.AtomicLong();

  /** Guest bytes the map of this layer was asked about so far (for tests: work follows the extents). */
  long mapBytesAsked() {
    return mapBytesAsked.get();
  }

  /** Steps the map of this layer took so far: allocated units and runs of unallocated entries. */
  long mapSteps() {
    return mapSteps.get();
  }

  /** L2 tables read from the file so far (cache misses). */
  long l2Loads() {
    return l2Loads.get();
  }

  /** One shared L2 table of zeros per cluster size (never written). */
  private static final long[][] EMPTY_TABLES = new long[22][];

  private static synchronized long[] emptyTable(int clusterBits) {
    long[] t = EMPTY_TABLES[clusterBits];
    if (t == null) {
      t = new long[(1 << clusterBits) / 8];
      EMPTY_TABLES[clusterBits] = t;
    }
    return t;
  }

  private static void appendMap(List<MapEntry> out, MapEntry e) {
    if (!out.isEmpty()) {
      MapEntry last = out.get(out.size() - 1);
      boolean sameKind = last.depth() == e.depth() && last.present() == e.present() && last.zero() == e.zero()
          && last.data() == e.data()
          && last.offset().isPresent() == e.offset().isPresent();
      boolean contiguous = sameKind
          && (last.offset().isEmpty() || last.offset().getAsLong() + last.length() == e.offset().getAsLong());
      if (sameKind && contiguous && last.start() + last.length() == e.start()) {
        out.set(out.size() - 1, new MapEntry(last.start(), last.length() + e.length(), e.depth(), e.present(), e.zero(),
            e.data(), last.offset()));
        return;
      }
    }
    out.add(e);
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0 || offset + dst.remaining() > size) {
      throw new IOException(path + ": read of " + dst.remaining() + " bytes at " + offset + " is outside the virtual size " + size);
    }
    int unitSize = 1 << unitBits;
    while (dst.hasRemaining()) {
      long unit = offset >>> unitBits;
      int inUnit = (int) (offset & (unitSize - 1));
      int n = Math.min(dst.remaining(), unitSize - inUnit);
      ByteBuffer part = dst.slice(dst.position(), n);
      int kind = kind(unit);
      if (kind == COMPRESSED) {
        long cluster = offset >>> clusterBits;
        byte[] plain = decompress(cluster, l2Entry(cluster));
        part.put(plain, (int) (offset & (clusterSize - 1)), n);
      } else if (kind == DATA) {
        long host = hostOffset(unit);
        String where = "data cluster of guest offset " + (offset >>> clusterBits << clusterBits) + " at 0x" + Long.toHexString(host);
        checkData(host, unitSize, where);
        // coalesce the following units that continue in the file into one read
        long next = unit + 1;
        while (n < dst.remaining() && (next << unitBits) < size && kind(next) == DATA
            && hostOffset(next) == host + ((next - unit) << unitBits)) {
          checkData(hostOffset(next), unitSize, where);
          n += Math.min(unitSize, dst.remaining() - n);
          next++;
        }
        part = dst.slice(dst.position(), n);
        readData(host + inUnit, part, where);
      } else if (kind == UNALLOCATED && backing != null) {
        long within = Math.max(0, Math.min(n, backing.virtualSize() - offset));
        if (within > 0) {
          backing.readFully(offset, part.slice(0, (int) within));
        }
        zero(part, (int) within, n);
      } else {
        zero(part, 0, n);
      }
      dst.position(dst.position() + n);
      offset += n;
    }
  }

  /** Raw-deflate decoders, one per reading thread (freed with the thread, by the Inflater's cleaner). */
  private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(() -> new Inflater(true));

  /** Zeros bytes [from, to) of {@code b} (absolute indexes). */
  private static void zero(ByteBuffer b, int from, int to) {
    if (b.hasArray()) {
      java.util.Arrays.fill(b.array(), b.arrayOffset() + from, b.arrayOffset() + to, (byte) 0);
    } else {
      for (int k = from; k < to; k += ZEROS.length) {
        b.put(k, ZEROS, 0, Math.min(ZEROS.length, to - k));
      }
    }
  }

  private static final byte[] ZEROS = new byte[64 << 10];

  private byte[] decompress(long cluster, long entry) throws IOException {
    if (dataFileName != null) {
      throw new CorruptImageException(path, "L2 entry of guest offset " + (cluster << clusterBits)
          + ": a compressed cluster in an image with an external data file (QEMU never writes one)");
    }
    int x = 62 - (clusterBits - 8);
    long host = entry & ((1L << x) - 1);
    long sectors = ((entry & ((1L << 62) - 1)) >>> x) + 1;
    long length = sectors * 512 - (host & 511);
    String where = "compressed cluster of guest offset " + (cluster << clusterBits) + " at 0x" + Long.toHexString(host);
    if (length <= 0 || length > 2L * clusterSize + 512) {
      throw new CorruptImageException(path, where + ": compressed length " + length + " (expected at most " + (2 * clusterSize) + ")");
    }
    long available = Math.min(length, fileSize - host);
    checkRange(host, Math.max(1, available), where, false);
    ByteBuffer in = read(host, (int) available, where);
    byte[] out = new byte[clusterSize];
    try {
      if (compressionType == 0) {
        Inflater inf = INFLATER.get(); // one per thread, reset per cluster: creating one costs a zlib init
        inf.reset();
        try {
          inf.setInput(in.array(), 0, in.limit());
          int n = 0;
          while (n < clusterSize) {
            int k = inf.inflate(out, n, clusterSize - n);
            if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
              break;
            }
            n += k;
          }
          if (n != clusterSize) {
            throw new CorruptImageException(path, where + ": deflate data gives " + n + " bytes (expected " + clusterSize + ")");
          }
        } finally {
          inf.reset();
        }
      } else {
        // one frame, followed by whatever the rest of its last sector holds; a context per call
        // (a ZstdInputStream per cluster cost 1.7 ms, 30x the decompression itself at 512 B clusters)
        long frame = Zstd.findFrameCompressedSize(in.array(), 0, in.limit());
        if (Zstd.isError(frame)) {
          throw new CorruptImageException(path, where + ": zstd data is corrupt: " + Zstd.getErrorName(frame));
        }
        long n = Zstd.decompressByteArray(out, 0, clusterSize, in.array(), 0, (int) frame);
        if (Zstd.isError(n)) {
          throw new CorruptImageException(path, where + ": zstd data is corrupt: " + Zstd.getErrorName(n));
        }
        if (n != clusterSize) {
          throw new CorruptImageException(path, where + ": zstd data gives " + n + " bytes (expected " + clusterSize + ")");
        }
      }
    } catch (DataFormatException e) {
      throw new CorruptImageException(path, where + ": deflate data is corrupt: " + e.getMessage(), e);
    } catch (com.github.luben.zstd.ZstdException e) {
      throw new CorruptImageException(path, where + ": zstd data is corrupt: " + e.getMessage(), e);
    }
    return out;
  }

  // ------------------------------------------------------------------ bitmaps

  /**
   * The union of the named bitmaps, each merged down the backing chain: the copies in the top
   * layer and in every layer below it that carries the bitmap without a gap.
   *
   * @throws Qcow2Exception when the top layer lacks one of the bitmaps
   * @throws BitmapInUseException when a layer's copy of one is flagged in use (checked for all
   *     of them before any bitmap data is read)
   */
  @Override
  public List<Extent> dirtyExtents(List<String> bitmapNames) throws IOException {
    java.util.TreeMap<Long, Long> runs = new java.util.TreeMap<>();
    for (String n : bitmapNames) {
      if (bitmapNamed(n).isEmpty()) {
        throw new Qcow2Exception(path, "no bitmap named '" + n + "'");
      }
      for (Qcow2Image layer : layers()) {
        Optional<Qcow2Bitmap> b = layer.bitmapNamed(n);
        if (b.isEmpty()) {
          break;
        }
        if (b.get().inUse()) {
          throw new BitmapInUseException(layer.path, n);
        }
      }
    }
    for (String n : bitmapNames) {
      for (Qcow2Image layer : layers()) {
        Optional<Qcow2Bitmap> b = layer.bitmapNamed(n);
        if (b.isEmpty()) {
          break;
        }
        for (Extent e : layer.dirtyExtents(b.get())) {
          if (e.offset() < size) {
            addRun(runs, e.offset(), Math.min(size, e.end()));
          }
        }
      }
    }
    List<Extent> out = new ArrayList<>();
    runs.forEach((a, z) -> out.add(new Extent(a, z - a, false)));
    return out;
  }

  private static void addRun(java.util.TreeMap<Long, Long> runs, long from, long to) {
    Map.Entry<Long, Long> before = runs.floorEntry(from);
    if (before != null && before.getValue() >= from) {
      from = before.getKey();
      to = Math.max(to, before.getValue());
      runs.remove(before.getKey());
    }
    Map.Entry<Long, Long> next = runs.ceilingEntry(from);
    while (next != null && next.getKey() <= to) {
      to = Math.max(to, next.getValue());
      runs.remove(next.getKey());
      next = runs.ceilingEntry(from);
    }
    runs.put(from, to);
  }

  /**
   * The dirty guest ranges of one bitmap of this layer, coalesced, scanned a 64-bit word at a time.
   *
   * @throws BitmapInUseException when the bitmap is flagged in use: its content in the file is stale
   */
  public List<Extent> dirtyExtents(Qcow2Bitmap b) throws IOException {
    if (b.inUse()) {
      throw new BitmapInUseException(path, b.name());
    }
    String tableWhere = "bitmap table of '" + b.name() + "' at 0x" + Long.toHexString(b.tableOffset());
    ByteBuffer table = read(b.tableOffset(), b.tableSize() * 8, tableWhere);
    long[] entries = new long[b.tableSize()];
    table.asLongBuffer().get(entries);
    requireDistinct(entries, tableWhere, "bitmap data cluster");
    long bitsPerCluster = 8L * clusterSize;
    long totalBits = (size + b.granularity() - 1) / b.granularity();
    DirtyRuns runs = new DirtyRuns(b.granularity(), size);
    for (int i = 0; i < b.tableSize(); i++) {
      long entry = table.getLong(i * 8);
      long firstBit = i * bitsPerCluster;
      long nBits = Math.min(bitsPerCluster, totalBits - firstBit);
      long host = entry & OFFSET_MASK;
      if (host == 0) {
        runs.fill((entry & 1) != 0, firstBit, firstBit + nBits);
        continue;
      }
      String where = tableWhere + ", entry " + i + ": data cluster at 0x" + Long.toHexString(host);
      if ((entry & 0x1ffL) != 0 || (host & (clusterSize - 1)) != 0) {
        throw new CorruptImageException(path, where + ": entry 0x" + Long.toHexString(entry) + " is not a cluster-aligned offset");
      }
      checkRange(host, clusterSize, where, true);
      runs.words(read(host, clusterSize, where), firstBit, nBits);
    }
    return runs.finish(totalBits);
  }

  // ------------------------------------------------------------------ I/O

  /** Checks that [offset, offset + length) lies inside the file (and is aligned when asked). */
  private void checkRange(long offset, long length, String what, boolean clusterAligned) throws CorruptImageException {
    if (offset < 0 || length < 0 || offset > fileSize || length > fileSize - offset) {
      throw new CorruptImageException(path, what + ": offset 0x" + Long.toHexString(offset) + " + " + length
          + " bytes is past the end of the file (" + fileSize + " bytes)");
    }
    if (clusterAligned && (offset & (clusterSize - 1)) != 0) {
      throw new CorruptImageException(path, what + ": offset 0x" + Long.toHexString(offset)
          + " is not aligned to the cluster size " + clusterSize);
    }
  }

  /**
   * Checks a data run: inside the image file (and cluster-aligned without extended L2), or, with an
   * external data file, at a sane offset (like QEMU, reads past the data file's end give zeros).
   */
  private void checkData(long host, long length, String where) throws CorruptImageException {
    if (dataFileName == null) {
      checkRange(host, length, where, !extendedL2);
    } else if (host < 0 || host > (1L << 56)) {
      throw new CorruptImageException(path, where + ": data file offset 0x" + Long.toHexString(host) + " is out of range");
    }
  }

  /** Reads data clusters' bytes from the image file or the external data file. */
  private void readData(long offset, ByteBuffer dst, String what) throws IOException {
    if (dataFileName == null) {
      readInto(offset, dst, what);
      return;
    }
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = data.read(dst, pos);
      if (n < 0) { // past the end of the data file: zeros, as QEMU reads them
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

  private ByteBuffer read(long offset, int length, String what) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    readInto(offset, b, what);
    return b.flip();
  }

  private void readInto(long offset, ByteBuffer dst, String what) throws IOException {
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new CorruptImageException(path, what + ": the file ends at " + pos + " (it was cut after it was opened?)");
      }
      pos += n;
    }
  }

  /** The backing file, if any (a {@link Qcow2Image} or a raw image). */
  public Optional<DiskSource> backing() {
    return Optional.ofNullable(backing);
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
      if (data != channel) {
        data.close();
      }
    } finally {
      if (backing != null) {
        backing.close();
      }
    }
  }
}
