package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.ImageException;
import org.tidemark.disk.UnsupportedImageException;

/**
 * Small images whose headers claim huge sizes and counts: the reader gives a typed error (or, for
 * structures it never reads, ignores the claim) and allocates at most {@link #BOUND} bytes doing
 * so, measured on the reading thread. The bounds are documented in docs/reliability.md.
 */
class Qcow2ResourceBoundsTest {
  /** What reading any of these small images may allocate, whatever it claims. */
  static final long BOUND = 4L << 20;

  @TempDir static Path dir;
  static Path small;
  static Path fanOut;

  @BeforeAll
  static void makeImages() throws Exception {
    small = dir.resolve("small.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", small.toString(), "64K");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 1 0 1k", "-c", "write -q -P 2 40k 1k", small.toString());
    Qemu.run("qemu-img", "bitmap", "--add", "-g", "512", small.toString(), "cp1");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 3 8k 1k", small.toString());
    // a bitmap table of two entries (8192 bits of 512 bytes), both data clusters allocated
    fanOut = dir.resolve("fan-out.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", fanOut.toString(), "4M");
    Qemu.run("qemu-img", "bitmap", "--add", "-g", "512", fanOut.toString(), "cp1");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 3 0 1k", "-c", "write -q -P 4 3M 1k", fanOut.toString());
    read(small); // load the classes before anything is measured
  }

  private static Path patched(Path from, String name, Consumer<ByteBuffer> patch) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(from));
    patch.accept(b);
    return Files.write(dir.resolve(name), b.array());
  }

  /** Opens and reads everything, returning what was thrown (null if nothing). */
  private static ImageException read(Path img) throws Exception {
    try (Qcow2Image q = Qcow2Image.open(img)) {
      Qcow2ImageFuzzTest.exercise(q);
      return null;
    } catch (ImageException e) {
      return e;
    }
  }

  /** Reads the image on this thread, measuring what it allocates; returns the typed error. */
  private static ImageException bounded(Path img) throws Exception {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    ImageException e = read(img);
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    assertTrue(allocated < BOUND, img.getFileName() + " allocated " + allocated + " bytes (bound " + BOUND + ")");
    return e;
  }

  private static void refused(Class<? extends ImageException> type, Path img, String... words) throws Exception {
    ImageException e = bounded(img);
    if (e == null) {
      fail(img.getFileName() + " was read without error");
    }
    assertEquals(type, e.getClass(), e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
    }
  }

  /** The offset of the bitmaps header extension's data. */
  private static int bitmapsExtension(ByteBuffer b) {
    int pos = b.getInt(100);
    while (b.getInt(pos) != 0) {
      if (b.getInt(pos) == 0x23852875) {
        return pos + 8;
      }
      pos += 8 + ((b.getInt(pos + 4) + 7) & ~7);
    }
    throw new AssertionError("no bitmaps extension");
  }

  @Test
  void l1SizeOfFourBillionEntries() throws Exception {
    refused(CorruptImageException.class, patched(small, "l1-size-max.qcow2", b -> b.putInt(36, -1)), "l1_size 4294967295");
  }

  @Test
  void l1TableOfThirtyTwoMegabytesBeyondTheFile() throws Exception {
    refused(CorruptImageException.class, patched(small, "l1-32m.qcow2", b -> b.putInt(36, Qcow2Image.MAX_TABLE_BYTES / 8)),
        "L1 table", "past the end of the file");
  }

  @Test
  void refcountTableClaimsAreNeverRead() throws Exception {
    Path img = patched(small, "refcount-huge.qcow2", b -> {
      b.putLong(48, 1L << 60);
      b.putInt(56, -1);
    });
    assertEquals(null, bounded(img), "the reader does not use refcounts");
  }

  @Test
  void snapshotClaimsAreNeverRead() throws Exception {
    Path img = patched(small, "snapshots-huge.qcow2", b -> {
      b.putInt(60, -1);
      b.putLong(64, 1L << 60);
    });
    assertEquals(null, bounded(img), "the reader does not read internal snapshots");
  }

  /**
   * A snapshot-table bomb: 65,536 snapshots claimed, each with an ID and a name of 65,535 bytes
   * (8.6 GB of table, QEMU refuses it: "Snapshot table is too big"); the file holds the entries'
   * fixed parts up to just past QEMU's 64 MiB limit, sparse. Refused before any of it is kept.
   */
  @Test
  void aSnapshotTableBeyondQemusLimitIsRefusedBeforeItIsKept() throws Exception {
    Path img = dir.resolve("snapshot-bomb.qcow2");
    Files.copy(small, img, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Qemu.run("qemu-img", "snapshot", "-c", "s1", img.toString());
    ByteBuffer h = ByteBuffer.wrap(Files.readAllBytes(img));
    assertEquals(1, h.getInt(60), "qemu-img wrote one snapshot");
    ByteBuffer entry = ByteBuffer.allocate(40).put(0, h.array(), (int) h.getLong(64), 40);
    entry.putShort(12, (short) 0xffff).putShort(14, (short) 0xffff).putInt(36, 0);
    long stride = (40 + 2 * 0xffff + 7) & ~7L;
    long table = (h.capacity() + 511) / 512 * 512;
    int entries = (int) (Qcow2Image.MAX_SNAPSHOT_TABLE_BYTES / stride) + 1;
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(img, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(12).putInt(0, 65536).putLong(4, table), 60);
      for (int i = 0; i < entries; i++) {
        ch.write(entry.clear(), table + i * stride);
      }
    }
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
      f.setLength(table + (entries + 1) * stride);
    }
    String qemu = new String(new ProcessBuilder("qemu-img", "info", img.toString()).redirectErrorStream(true).start()
        .getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(qemu.contains("Snapshot table is too big"), qemu);
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    try (Qcow2Image q = Qcow2Image.open(img)) {
      long before = mx.getCurrentThreadAllocatedBytes();
      CorruptImageException e = org.junit.jupiter.api.Assertions.assertThrows(CorruptImageException.class, q::snapshots);
      long allocated = mx.getCurrentThreadAllocatedBytes() - before;
      assertTrue(e.getMessage().contains("snapshot table at 0x" + Long.toHexString(table)), e.getMessage());
      assertTrue(e.getMessage().contains("expected at most 67108864"), e.getMessage());
      assertTrue(allocated < BOUND, "snapshots() allocated " + allocated + " bytes (bound " + BOUND + ")");
    }
  }

  @Test
  void headerExtensionLengthOfFourGigabytes() throws Exception {
    refused(CorruptImageException.class, patched(small, "extension-length-max.qcow2", b -> b.putInt(b.getInt(100) + 4, -1)),
        "header extension", "length 4294967295", "runs past the header cluster");
  }

  @Test
  void bitmapCountBeyondTheLimit() throws Exception {
    refused(CorruptImageException.class, patched(small, "bitmaps-count-max.qcow2", b -> b.putInt(bitmapsExtension(b), Integer.MAX_VALUE)),
        "bitmaps extension", "2147483647 bitmaps");
  }

  @Test
  void bitmapDirectoryOfATerabyte() throws Exception {
    refused(CorruptImageException.class, patched(small, "bitmap-directory-1t.qcow2", b -> b.putLong(bitmapsExtension(b) + 8, 1L << 40)),
        "bitmaps extension", "1099511627776 bytes");
  }

  @Test
  void bitmapDirectoryOfThirtyTwoMegabytesBeyondTheFile() throws Exception {
    refused(CorruptImageException.class,
        patched(small, "bitmap-directory-32m.qcow2", b -> b.putLong(bitmapsExtension(b) + 8, Qcow2Image.MAX_TABLE_BYTES)),
        "bitmap directory", "past the end of the file");
  }

  @Test
  void bitmapTableSizeOfFourBillionEntries() throws Exception {
    refused(CorruptImageException.class, patched(small, "bitmap-table-size-max.qcow2", b -> {
      long directory = b.getLong(bitmapsExtension(b) + 16);
      b.putInt((int) directory + 8, -1);
    }), "bitmap directory entry 0", "bitmap table size 4294967295");
  }

  @Test
  void l2TableSharedByTwoL1Entries() throws Exception {
    refused(CorruptImageException.class, patched(small, "l2-shared.qcow2", b -> {
      int l1 = (int) b.getLong(40);
      b.putLong(l1 + 8, b.getLong(l1));
    }), "L1 table", "entries 0 and 1 both point to the L2 table");
  }

  @Test
  void bitmapDataClusterSharedByTwoTableEntries() throws Exception {
    // shared, one cluster of alternating bits would stand for 2048 extents per table entry
    refused(CorruptImageException.class, patched(fanOut, "bitmap-cluster-shared.qcow2", b -> {
      long directory = b.getLong(bitmapsExtension(b) + 16);
      int table = (int) b.getLong((int) directory);
      assertTrue(b.getLong(table) != 0 && b.getLong(table + 8) != 0, "both entries allocated");
      b.putLong(table + 8, b.getLong(table));
    }), "bitmap table of 'cp1'", "entries 0 and 1 both point to the bitmap data cluster");
  }

  /** A header-only image naming {@code backing} as its backing file (qcow2). */
  private static Path layer(String name, String backing) throws Exception {
    Path p = dir.resolve(name);
    Files.deleteIfExists(p);
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-u", "-b", backing, "-F", "qcow2",
        p.toString(), "64K");
    return p;
  }

  @Test
  void aBackingChainLoopIsRefused() throws Exception {
    Path a = layer("loop-a.qcow2", "loop-b.qcow2");
    layer("loop-b.qcow2", "loop-a.qcow2");
    refused(CorruptImageException.class, a, "the backing chain loops", "loop-a.qcow2");
    refused(CorruptImageException.class, layer("self.qcow2", "self.qcow2"), "the backing chain loops");
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 20, unit = java.util.concurrent.TimeUnit.SECONDS,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open() ignores interrupts
  void aBackingFifoIsRefusedWithoutBlocking() throws Exception {
    Path fifo = dir.resolve("backing.fifo");
    Files.deleteIfExists(fifo);
    Qemu.run("mkfifo", fifo.toString());
    Path img = dir.resolve("on-fifo.qcow2");
    Files.deleteIfExists(img);
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-u", "-b", fifo.toString(), "-F", "raw",
        img.toString(), "64K");
    // opening a FIFO for reading blocks until a writer comes: refused before that
    refused(UnsupportedImageException.class, img, "backing file", "is a FIFO, not a regular file or a block device");
  }

  @Test
  void aChainDeeperThanTheLimitIsRefused() throws Exception {
    // chain-00 -> chain-01 -> ... -> chain-NN, copies of one image with the backing name patched
    Path template = layer("chain-template.qcow2", "chain-01.qcow2");
    byte[] bytes = Files.readAllBytes(template);
    ByteBuffer h = ByteBuffer.wrap(bytes);
    int nameAt = (int) h.getLong(8);
    int depth = Qcow2Image.MAX_CHAIN + 1;
    for (int i = 0; i < depth; i++) {
      byte[] copy = bytes.clone();
      String next = String.format("chain-%02d.qcow2", i + 1);
      System.arraycopy(next.getBytes(StandardCharsets.US_ASCII), 0, copy, nameAt, next.length());
      if (i == depth - 1) { // the last has no backing file
        ByteBuffer.wrap(copy).putLong(8, 0).putInt(16, 0);
      }
      Files.write(dir.resolve(String.format("chain-%02d.qcow2", i)), copy);
    }
    refused(UnsupportedImageException.class, dir.resolve("chain-00.qcow2"), "deeper than " + Qcow2Image.MAX_CHAIN);
    // at the limit it opens: MAX_CHAIN images in all
    try (Qcow2Image q = Qcow2Image.open(dir.resolve("chain-01.qcow2"))) {
      assertEquals(Qcow2Image.MAX_CHAIN, q.layers().size());
    }
  }
}
