package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The active L1 table and the L2 tables below it: what each guest cluster (or subcluster, with
 * extended L2 entries) holds and where. L2 tables are read on demand, cached up to 32 MiB
 * (synchronized); an L2 table of zeros only is answered with one shared empty table. Every L1 entry
 * must point to an L2 table of its own (QEMU never shares them), so that the work of walking the
 * tables grows with the file, not with the size it claims.
 */
final class ClusterMap {
  static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;
  private static final long COPIED = 1L << 63;
  private static final long L2_CACHE_BYTES = 32L << 20;

  static final int DATA = 0;
  static final int COMPRESSED = 1;
  static final int ZERO = 2;
  static final int UNALLOCATED = 3;

  private final ImageFile file;
  private final Path path;
  private final int version;
  final int clusterBits;
  final int clusterSize;
  final boolean extendedL2;
  /** log2 of the L2 entries per table. */
  final int l2Bits;
  /** log2 of the unit the map is kept in: the cluster, or with extended L2 the subcluster. */
  final int unitBits;
  private final boolean dataFile;
  private final long[] l1;
  private final Map<Long, long[]> l2Cache;
  private final java.util.concurrent.atomic.AtomicLong l2Loads = new java.util.concurrent.atomic.AtomicLong();

  /** Reads the L1 entries the virtual size needs (the header checked the table's place). */
  ClusterMap(ImageFile file, Qcow2Header header) throws IOException {
    this.file = file;
    this.path = file.path();
    this.version = header.version;
    this.clusterBits = header.clusterBits;
    this.clusterSize = header.clusterSize;
    this.extendedL2 = header.extendedL2;
    this.l2Bits = header.l2Bits;
    this.unitBits = header.unitBits;
    this.dataFile = header.dataFileName != null;
    int needed = header.l1Entries;
    ByteBuffer l1Bytes = file.read(header.l1Offset, needed * 8, "L1 table at 0x" + Long.toHexString(header.l1Offset));
    l1 = new long[needed];
    for (int i = 0; i < needed; i++) {
      l1[i] = l1Bytes.getLong(i * 8);
    }
    requireDistinct(path, l1, "L1 table at 0x" + Long.toHexString(header.l1Offset), "L2 table");
    int maxTables = (int) Math.max(1, L2_CACHE_BYTES / clusterSize);
    l2Cache = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, long[]> e) {
        return size() > maxTables;
      }
    };
  }

  /**
   * Refuses a table whose entries share a cluster: QEMU gives every L2 table of the active L1 table,
   * and every data cluster of a bitmap table, a cluster of its own (refcount 1). Shared, one
   * cluster would be walked once per reference, so a small hostile file could stand for an
   * allocation map or dirty-extent list without bound; distinct, the work and memory of the
   * allocation map and of dirty extents grow with the file's size.
   */
  static void requireDistinct(Path path, long[] entries, String table, String what) throws CorruptImageException {
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

  /** The L2 table of L1 entry {@code l1Index}; null when the entry has none. */
  long[] l2TableOf(int l1Index) throws IOException {
    long l2Offset = l1[l1Index] & OFFSET_MASK;
    return l2Offset == 0 ? null : l2Table(l1Index, l2Offset);
  }

  /** The L2 entry of guest cluster {@code cluster}; 0 when its L1 entry is unallocated. */
  long l2Entry(long cluster) throws IOException {
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

  /** What a unit (cluster, or subcluster with extended L2) holds. */
  int kind(long unit) throws IOException {
    long cluster = unit >>> (clusterBits - unitBits);
    return kindOf(l2Entry(cluster), l2SubclusterBitmap(cluster), cluster, (int) (unit & 31));
  }

  /**
   * What a unit holds, from its cluster's L2 entry and (extended L2) subcluster bitmap; {@code sub}
   * is the subcluster's index in the cluster (ignored without extended L2).
   */
  int kindOf(long entry, long bitmap, long cluster, int sub) throws CorruptImageException {
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
  long hostOffset(long unit) throws IOException {
    long cluster = unit >>> (clusterBits - unitBits);
    return (l2Entry(cluster) & OFFSET_MASK) + ((unit & ((1L << (clusterBits - unitBits)) - 1)) << unitBits);
  }

  /**
   * The L2 table at {@code l2Offset}, from the cache or read. The cluster is read into a per-thread
   * scratch buffer; a table of zeros only (all entries unallocated: a discarded table, or a table
   * in a hole of a sparse file) is answered with one shared empty table and takes no memory of its
   * own; a table the file system says lies in a hole is not even read ({@link ImageFile#isHole}),
   * so a sparse file whose L1 table names millions of tables in holes costs one system call each,
   * no read and no allocation.
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
    file.checkRange(l2Offset, clusterSize, where, clusterSize);
    if (file.isHole(l2Offset, clusterSize)) { // zeros, as the file system says: not read at all
      long[] t = emptyTable(clusterBits);
      synchronized (l2Cache) {
        l2Cache.put(l2Offset, t);
      }
      return t;
    }
    ByteBuffer b = SCRATCH.get();
    if (b.capacity() < clusterSize) {
      b = ByteBuffer.allocateDirect(clusterSize);
      SCRATCH.set(b);
    }
    b.clear().limit(clusterSize);
    file.readInto(l2Offset, b, where);
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
  boolean hasHost(long entry) {
    return (entry & OFFSET_MASK) != 0 || (dataFile && (entry & COPIED) != 0);
  }

  /** One shared L2 table of zeros per cluster size (never written). */
  private static final long[][] EMPTY_TABLES = new long[22][];

  /** The shared table of zeros of a cluster size: a table that is one holds no allocated cluster. */
  static synchronized long[] emptyTable(int clusterBits) {
    long[] t = EMPTY_TABLES[clusterBits];
    if (t == null) {
      t = new long[(1 << clusterBits) / 8];
      EMPTY_TABLES[clusterBits] = t;
    }
    return t;
  }

  /** L2 tables read from the file so far (cache misses). */
  long l2Loads() {
    return l2Loads.get();
  }
}
