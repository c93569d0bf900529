package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.disk.ImageFormats;
import org.tidemark.disk.UnsupportedImageException;
import org.tidemark.store.Publish;

/**
 * Writes a thin qcow2 v3 image natively, without QEMU: what a restore to {@code --format qcow2}
 * produces.
 *
 * <p>The image has {@value #CLUSTER_SIZE}-byte clusters, 16-bit refcounts (refcount_order 4), no
 * backing file, no compression, no snapshots, no bitmaps, and no feature bit set (in particular
 * never the dirty bit). Its layout in host clusters (see {@code docs/qcow2.md}, "What Tidemark
 * writes"):
 *
 * <pre>
 * cluster 0                 header (112 bytes) + the extension end marker
 * clusters 1 .. L           the L1 table (L = ceil(l1_size * 8 / 64 KiB) clusters)
 * then                      data clusters, in the order they were first written
 * then                      L2 tables, in L1 order (one per 512 MiB of guest that holds data)
 * then                      the refcount table, then the refcount blocks
 * </pre>
 *
 * Every cluster from 0 to the end of the file is in use exactly once (refcount 1), so L1 and L2
 * entries carry the COPIED flag (bit 63); nothing leaks.
 *
 * <p><b>Zeros.</b> A whole guest cluster written with zeros that was not allocated stays
 * unallocated (it reads as zeros: there is no backing file); so does every cluster never written.
 * A partial write of zeros to an unallocated cluster is dropped for the same reason. A write of
 * non-zero bytes allocates the cluster (appending it to the file with an atomic counter) and
 * writes just those bytes at their place in it: the rest of the host cluster is a hole of the
 * file system and reads as zeros, so no read-modify-write is ever needed. Consecutive guest
 * clusters with data in one write are allocated together, so they are contiguous in the file and
 * written with one positional write.
 *
 * <p><b>Threads.</b> {@link #write} may be called from several threads at once for disjoint
 * guest ranges, aligned or not (two threads may write different parts of one cluster): looking up
 * or allocating a cluster's L2 entry is done under a lock striped by L2 table, the data itself is
 * written positionally outside any lock. {@link #commit()} is called once all writes have returned.
 *
 * <p><b>Memory.</b> The L1 table and the L2 tables are kept in memory and written at commit; the
 * refcounts are not stored at all (every cluster below the end of the file has refcount 1, so
 * they are computed at commit). An L2 table is created only for a 512 MiB guest region that
 * receives data, and holds 4 bytes per guest cluster (the host cluster index): 32 KiB per such
 * region, so at most {@code virtualSize / 16384} bytes, 64 MiB for a 1 TiB disk full of data
 * (the 8-byte on-disk L2 entries would be 128 MiB). Commit writes them through one 1 MiB buffer.
 * Virtual sizes up to {@value #MAX_VIRTUAL_SIZE} bytes (64 TiB) are accepted, which keeps every
 * host cluster index within an {@code int}.
 *
 * <p>The image is written under a hidden temporary name beside the target and published by
 * {@link #commit()} after being forced to disk, exactly like {@link
 * org.tidemark.restore.RawImageWriter}.
 *
 * <p>Data clusters go around the page cache where the file system allows it and the write is
 * aligned ({@link org.tidemark.internal.DirectWrites}); the metadata written at commit goes
 * through it.
 */
public final class Qcow2ImageWriter implements DiskImageWriter {
  /** log2 of the cluster size. */
  public static final int CLUSTER_BITS = 16;
  /** The cluster size: 64 KiB, QEMU's default. */
  public static final int CLUSTER_SIZE = 1 << CLUSTER_BITS;
  /** The largest virtual size accepted: 64 TiB. */
  public static final long MAX_VIRTUAL_SIZE = 1L << 46;
  /** refcount_order: refcounts are 2^4 = 16 bits wide. */
  public static final int REFCOUNT_ORDER = 4;
  /** The header's length (v3 header with the compression type byte, padded to 8). */
  static final int HEADER_LENGTH = 112;

  private static final int L2_BITS = CLUSTER_BITS - 3; // 8-byte entries
  private static final int L2_ENTRIES = 1 << L2_BITS;
  private static final int REFCOUNTS_PER_BLOCK = CLUSTER_SIZE / 2; // 16-bit refcounts
  private static final int REFTABLE_ENTRIES_PER_CLUSTER = CLUSTER_SIZE / 8;
  private static final long COPIED = 1L << 63;
  private static final int LOCK_STRIPES = 64;
  /** The most clusters allocated and written in one step (16 MiB). */
  private static final int MAX_RUN = 256;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CLUSTER_SIZE).asReadOnlyBuffer();

  private final Path target;
  private final Path temp;
  private final FileChannel channel;
  private final org.tidemark.internal.DirectWrites directWrites;
  private final boolean overwrite;
  private final long size;
  private final int l1Size;
  private final int l1Clusters;
  /** Per L1 index: the host cluster index of each guest cluster of the region (0: unallocated), or null. */
  private final int[][] l2;
  private final Object[] locks = new Object[LOCK_STRIPES];
  /** The next free host cluster index for data. */
  private final AtomicLong nextCluster;
  private boolean done;

  private Qcow2ImageWriter(Path target, Path temp, FileChannel channel, boolean overwrite, long size, boolean direct) {
    this.target = target;
    this.temp = temp;
    this.channel = channel;
    this.directWrites = org.tidemark.internal.DirectWrites.open(
        temp, channel, new org.tidemark.internal.EarlyWriteback(channel), direct);
    this.overwrite = overwrite;
    this.size = size;
    long guestClusters = (size + CLUSTER_SIZE - 1) >>> CLUSTER_BITS;
    this.l1Size = (int) ((guestClusters + L2_ENTRIES - 1) >>> L2_BITS);
    this.l1Clusters = (int) (((long) l1Size * 8 + CLUSTER_SIZE - 1) >>> CLUSTER_BITS);
    this.l2 = new int[l1Size][];
    for (int i = 0; i < LOCK_STRIPES; i++) {
      locks[i] = new Object();
    }
    this.nextCluster = new AtomicLong(1 + l1Clusters);
  }

  /**
   * Starts a qcow2 image of {@code size} guest bytes to be committed as {@code target}.
   *
   * @throws FileAlreadyExistsException when the target exists and {@code overwrite} is false
   * @throws UnsupportedImageException when {@code size} is above {@value #MAX_VIRTUAL_SIZE} (64 TiB)
   * @throws IllegalArgumentException when {@code size} is negative
   */
  public static Qcow2ImageWriter create(Path target, long size, boolean overwrite) throws IOException {
    return create(target, size, overwrite, true);
  }

  /**
   * Starts a qcow2 image as {@link #create(Path, long, boolean)} does, written around the page
   * cache where the file system allows it only when {@code direct}.
   */
  public static Qcow2ImageWriter create(Path target, long size, boolean overwrite, boolean direct) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("virtual size " + size);
    }
    if (size > MAX_VIRTUAL_SIZE) {
      throw new UnsupportedImageException(target, "virtual size " + size + " bytes: Tidemark writes qcow2 images of up"
          + " to 64 TiB (" + MAX_VIRTUAL_SIZE + " bytes); restore this disk as raw");
    }
    if (!overwrite && Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists");
    }
    Path temp = Publish.tempFor(target);
    FileChannel ch;
    try {
      ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      Publish.discard(temp);
      throw e;
    }
    return new Qcow2ImageWriter(target, temp, ch, overwrite, size, direct);
  }

  @Override
  public long virtualSize() {
    return size;
  }

  /** Host clusters used so far (header, L1 table and data clusters; metadata is added at commit). */
  public long clustersAllocated() {
    return nextCluster.get();
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    int length = data.remaining();
    if (offset < 0 || offset > size - length) {
      throw new IOException(temp + ": write of " + length + " bytes at " + offset + " is beyond the virtual size " + size);
    }
    int base = data.position();
    long end = offset + length;
    long guest = offset;
    while (guest < end) {
      long cluster = guest >>> CLUSTER_BITS;
      int n = (int) Math.min(CLUSTER_SIZE - (guest & (CLUSTER_SIZE - 1)), end - guest);
      if (isZero(data, base + (int) (guest - offset), n)) {
        long host = lookup(cluster); // zeros: only an allocated cluster needs them written
        if (host != 0) {
          directWrites.write((host << CLUSTER_BITS) + (guest & (CLUSTER_SIZE - 1)), data.slice(base + (int) (guest - offset), n));
        }
        guest += n;
        continue;
      }
      // a run of clusters with data, within one L2 table: allocated together, so contiguous in the file
      int l1Index = (int) (cluster >>> L2_BITS);
      long runEnd = guest + n;
      int count = 1;
      while (runEnd < end && count < MAX_RUN && (runEnd >>> (CLUSTER_BITS + L2_BITS)) == l1Index) {
        int m = (int) Math.min(CLUSTER_SIZE, end - runEnd); // runEnd is cluster-aligned here
        if (isZero(data, base + (int) (runEnd - offset), m)) {
          break;
        }
        runEnd += m;
        count++;
      }
      int[] hosts = allocate(cluster, count);
      long g = guest;
      for (int i = 0; i < count; ) {
        int j = i + 1;
        while (j < count && hosts[j] == hosts[j - 1] + 1) {
          j++;
        }
        long stretchEnd = Math.min(runEnd, (cluster + j) << CLUSTER_BITS);
        directWrites.write(((long) hosts[i] << CLUSTER_BITS) + (g & (CLUSTER_SIZE - 1)),
            data.slice(base + (int) (g - offset), (int) (stretchEnd - g)));
        g = stretchEnd;
        i = j;
      }
      guest = runEnd;
    }
    data.position(data.limit());
  }

  private static boolean isZero(ByteBuffer data, int at, int n) {
    return data.slice(at, n).mismatch(ZEROS.slice(0, n)) == -1;
  }

  private Object lock(int l1Index) {
    return locks[l1Index & (LOCK_STRIPES - 1)];
  }

  /** The host cluster of a guest cluster, 0 when unallocated. */
  private long lookup(long cluster) {
    int l1Index = (int) (cluster >>> L2_BITS);
    synchronized (lock(l1Index)) {
      int[] table = l2[l1Index];
      return table == null ? 0 : table[(int) (cluster & (L2_ENTRIES - 1))];
    }
  }

  /**
   * The host clusters of {@code count} guest clusters from {@code first} (all in one L2 table);
   * those that had none are appended to the file, contiguously and in guest order.
   */
  private int[] allocate(long first, int count) {
    int l1Index = (int) (first >>> L2_BITS);
    int l2Index = (int) (first & (L2_ENTRIES - 1));
    int[] hosts = new int[count];
    synchronized (lock(l1Index)) {
      int[] table = l2[l1Index];
      if (table == null) {
        table = new int[L2_ENTRIES];
        l2[l1Index] = table;
      }
      int need = 0;
      for (int k = 0; k < count; k++) {
        if (table[l2Index + k] == 0) {
          need++;
        }
      }
      long next = need == 0 ? 0 : nextCluster.getAndAdd(need);
      if (next + need - 1 > Integer.MAX_VALUE) {
        throw new IllegalStateException("qcow2 image beyond 2^31 clusters"); // unreachable below MAX_VIRTUAL_SIZE
      }
      for (int k = 0; k < count; k++) {
        if (table[l2Index + k] == 0) {
          table[l2Index + k] = (int) next++;
        }
        hosts[k] = table[l2Index + k];
      }
    }
    return hosts;
  }

  /**
   * Writes the L2 tables, the L1 table, the refcount table and blocks and the header, forces the
   * file to disk and gives it the target's name.
   */
  @Override
  public Path commit() throws IOException {
    Publish.publish(finish(), target, overwrite);
    return target;
  }

  /** As {@link #commit()}, but leaves the finished file under its temporary name, which it returns. */
  @Override
  public Path finish() throws IOException {
    if (done) {
      throw new IllegalStateException("already committed or closed: " + temp);
    }
    long next = nextCluster.get();
    long[] l1 = new long[l1Size];
    for (int i = 0; i < l1Size; i++) {
      if (l2[i] != null) {
        l1[i] = next++;
      }
    }
    // refcount structures cover every cluster including themselves: iterate to the fixed point
    long dataEnd = next;
    long blocks = 0;
    long tableClusters = 0;
    while (true) {
      long total = dataEnd + tableClusters + blocks;
      long b = (total + REFCOUNTS_PER_BLOCK - 1) / REFCOUNTS_PER_BLOCK;
      long t = (b + REFTABLE_ENTRIES_PER_CLUSTER - 1) / REFTABLE_ENTRIES_PER_CLUSTER;
      if (b == blocks && t == tableClusters) {
        break;
      }
      blocks = b;
      tableClusters = t;
    }
    long refTable = dataEnd;
    long firstBlock = refTable + tableClusters;
    long total = firstBlock + blocks;

    try (Output out = new Output(channel)) {
      // L2 tables, in L1 order, right after the data
      for (int i = 0; i < l1Size; i++) {
        if (l2[i] != null) {
          out.seek(l1[i] << CLUSTER_BITS);
          for (int host : l2[i]) {
            out.putLong(host == 0 ? 0 : ((long) host << CLUSTER_BITS) | COPIED);
          }
        }
      }
      // refcount table, then blocks: refcount 1 for every cluster below the total
      out.seek(refTable << CLUSTER_BITS);
      for (long j = 0; j < tableClusters * REFTABLE_ENTRIES_PER_CLUSTER; j++) {
        out.putLong(j < blocks ? (firstBlock + j) << CLUSTER_BITS : 0);
      }
      for (long c = 0; c < blocks * REFCOUNTS_PER_BLOCK; c++) {
        out.putShort((short) (c < total ? 1 : 0));
      }
      // L1 table
      out.seek((long) CLUSTER_SIZE);
      for (int i = 0; i < l1Clusters * (CLUSTER_SIZE / 8); i++) {
        out.putLong(i < l1Size && l1[i] != 0 ? (l1[i] << CLUSTER_BITS) | COPIED : 0);
      }
      // header last
      out.seek(0);
      out.putInt(ImageFormats.QCOW2_MAGIC);
      out.putInt(3); // version
      out.putLong(0); // backing_file_offset
      out.putInt(0); // backing_file_size
      out.putInt(CLUSTER_BITS);
      out.putLong(size);
      out.putInt(0); // crypt_method
      out.putInt(l1Size);
      out.putLong(CLUSTER_SIZE); // l1_table_offset
      out.putLong(refTable << CLUSTER_BITS); // refcount_table_offset
      out.putInt((int) tableClusters);
      out.putInt(0); // nb_snapshots
      out.putLong(0); // snapshots_offset
      out.putLong(0); // incompatible_features: not dirty, not corrupt
      out.putLong(0); // compatible_features
      out.putLong(0); // autoclear_features
      out.putInt(REFCOUNT_ORDER);
      out.putInt(HEADER_LENGTH);
      out.putLong(0); // compression_type 0 (zlib, unused) + 7 bytes of padding
      out.putLong(0); // header extension end: type 0, length 0
    }
    if (channel.size() < total << CLUSTER_BITS) {
      throw new IOException(temp + ": qcow2 image shorter than its refcounts say");
    }
    org.tidemark.store.Publish.finish(directWrites, channel);
    done = true;
    return temp;
  }

  /** Discards the image unless it was committed. */
  @Override
  public void close() throws IOException {
    if (done) {
      return;
    }
    done = true;
    org.tidemark.store.Publish.abandon(directWrites, channel, temp);
  }

  /** Sequential big-endian output through a 1 MiB buffer, flushed at each seek. */
  private static final class Output implements AutoCloseable {
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
    private long at;

    Output(FileChannel channel) {
      this.channel = channel;
    }

    void seek(long offset) throws IOException {
      flush();
      at = offset;
    }

    void putLong(long v) throws IOException {
      room(8);
      buf.putLong(v);
    }

    void putInt(int v) throws IOException {
      room(4);
      buf.putInt(v);
    }

    void putShort(short v) throws IOException {
      room(2);
      buf.putShort(v);
    }

    private void room(int n) throws IOException {
      if (buf.remaining() < n) {
        flush();
      }
    }

    private void flush() throws IOException {
      buf.flip();
      while (buf.hasRemaining()) {
        at += channel.write(buf, at);
      }
      buf.clear();
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
