package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.disk.Extent;
import org.tidemark.disk.UnsupportedImageException;
import org.tidemark.store.Publish;

/**
 * qcow2 images Tidemark writes, judged by QEMU: for every image {@code qemu-img check} finds no
 * error and no leak, {@code qemu-img compare} finds it identical to a raw file of the same
 * content, {@code qemu-img map} shows exactly the clusters that received non-zero bytes as data,
 * {@code qemu-img info} says qcow2 v3 (compat 1.1), 16-bit refcounts, not dirty, not corrupt; and
 * Tidemark's own reader reads back the same guest bytes and the same map.
 */
class Qcow2ImageWriterTest {
  private static final int C = Qcow2ImageWriter.CLUSTER_SIZE;
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  /** One write: guest offset and bytes. */
  private record Write(long offset, byte[] data) {}

  /** The guest as the writes leave it, kept in memory, plus which clusters ever got a non-zero byte. */
  private static final class Model {
    final byte[] bytes;
    final boolean[] allocated;

    Model(int size) {
      bytes = new byte[size];
      allocated = new boolean[(size + C - 1) / C];
    }

    void apply(Write w) {
      System.arraycopy(w.data, 0, bytes, (int) w.offset, w.data.length);
      for (int i = 0; i < w.data.length; i++) {
        if (w.data[i] != 0) {
          allocated[(int) ((w.offset + i) / C)] = true;
        }
      }
    }

    /** The map QEMU must report: allocated clusters are data, the rest zero, clipped to the size. */
    List<Extent> map() {
      List<Extent> out = new ArrayList<>();
      for (int c = 0; c < allocated.length; c++) {
        long start = (long) c * C;
        Qemu.add(out, new Extent(start, Math.min(C, bytes.length - start), !allocated[c]));
      }
      return out;
    }
  }

  /** Random content for a write: random bytes, all zeros, or whole clusters of zeros between data. */
  private static byte[] content(Random r, int length) {
    byte[] b = new byte[length];
    switch (r.nextInt(4)) {
      case 0 -> { } // all zeros
      case 1 -> {
        r.nextBytes(b);
        for (int c = 0; c < length; c += C) {
          if (r.nextBoolean()) {
            java.util.Arrays.fill(b, c, Math.min(length, c + C), (byte) 0);
          }
        }
      }
      default -> r.nextBytes(b);
    }
    return b;
  }

  /**
   * Disjoint extents covering parts of a guest of {@code size} bytes, aligned to {@code align}
   * (the last one may end at the virtual size), in random order.
   */
  private static List<Write> disjoint(Random r, int size, int align, int count) {
    List<Long> cuts = new ArrayList<>();
    for (int i = 0; i < 2 * count; i++) {
      cuts.add((long) r.nextInt(size / align + 1) * align);
    }
    cuts.add((long) size);
    Collections.sort(cuts);
    List<Write> out = new ArrayList<>();
    for (int i = 0; i + 1 < cuts.size(); i += 2) {
      long from = cuts.get(i);
      long to = i + 2 == cuts.size() ? size : cuts.get(i + 1);
      if (to > from) {
        out.add(new Write(from, content(r, (int) (to - from))));
      }
    }
    Collections.shuffle(out, r);
    return out;
  }

  static Stream<Arguments> seeds() {
    // seed, virtual size (multiples of 512, mostly not of the cluster size), alignment of extents
    return Stream.of(
        Arguments.of(1L, (40 << 20) + 7 * 512, 512),
        Arguments.of(2L, (24 << 20) + 4096, 4096),
        Arguments.of(3L, 33 << 20, 65536),
        Arguments.of(4L, (17 << 20) + 512, 1 << 20),
        Arguments.of(5L, 5 * C + 3 * 512, 512),
        Arguments.of(6L, (12 << 20) + 512, 512)); // several L2 tables: see hugeSparseImageStaysSmall
  }

  @ParameterizedTest(name = "seed {0}: size {1}, extents aligned to {2}, written by 4 threads")
  @MethodSource("seeds")
  void disjointExtentsInParallel(long seed, int size, int align) throws Exception {
    Random r = new Random(seed);
    List<Write> writes = disjoint(r, size, align, 60);
    Model model = new Model(size);
    writes.forEach(model::apply);
    Path img = dir.resolve("p" + seed + ".qcow2");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      List<Future<?>> done = new ArrayList<>();
      for (Write x : writes) {
        done.add(pool.submit(() -> {
          // in pieces of at most 3 alignment units, as restore chunks arrive
          int step = Math.max(align, 3 * align);
          for (int p = 0; p < x.data.length; p += step) {
            w.write(x.offset + p, ByteBuffer.wrap(x.data, p, Math.min(step, x.data.length - p)));
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      assertEquals(img, w.commit());
    } finally {
      pool.shutdownNow();
    }
    judge(img, model);
  }

  @ParameterizedTest(name = "seed {0}: overlapping writes, later wins, unaligned")
  @ValueSource(longs = {21, 22, 23})
  void overlappingSequentialWrites(long seed) throws Exception {
    Random r = new Random(seed);
    int size = (9 << 20) + 3 * 512;
    Model model = new Model(size);
    Path img = dir.resolve("o" + seed + ".qcow2");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      for (int i = 0; i < 150; i++) {
        int len = 1 + r.nextInt(3 * C);
        int off = r.nextInt(size - len + 1);
        Write x = new Write(off, content(r, len));
        model.apply(x);
        w.write(x.offset, ByteBuffer.wrap(x.data));
      }
      w.commit();
    }
    judge(img, model);
  }

  @Test
  void zeroClustersStayUnallocated() throws Exception {
    int size = 8 * C + 1024;
    Model model = new Model(size);
    Path img = dir.resolve("zeros.qcow2");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      List<Write> writes = List.of(
          new Write(0, new byte[3 * C]), // whole clusters of zeros
          new Write(3 * C + 100, new byte[500]), // partial zeros
          new Write(8 * C, new byte[1024])); // the last, partial cluster: zeros
      for (Write x : writes) {
        model.apply(x);
        w.write(x.offset, ByteBuffer.wrap(x.data));
      }
      byte[] one = new byte[C];
      one[C - 1] = 7; // one non-zero byte allocates exactly one cluster
      Write x = new Write(5 * C, one);
      model.apply(x);
      w.write(x.offset, ByteBuffer.wrap(x.data));
      w.commit();
    }
    judge(img, model);
    assertEquals(List.of(new Extent(0, 5 * C, true), new Extent(5 * C, C, false), new Extent(6 * C, 2 * C + 1024, true)),
        Qemu.map(img));
    // header, L1, one data cluster, one L2 table, refcount table, one refcount block
    assertEquals(6L * C, Files.size(img));
  }

  @Test
  void clustersOfOneWriteAreContiguousInTheFile() throws Exception {
    int size = 64 * C;
    Model model = new Model(size);
    Path img = dir.resolve("contiguous.qcow2");
    byte[] b = new byte[40 * C - 1000];
    new Random(41).nextBytes(b);
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      Write x = new Write(3 * C + 1000, b);
      model.apply(x);
      w.write(x.offset, ByteBuffer.wrap(x.data));
      w.commit();
    }
    judge(img, model);
    JsonNode check = check(img);
    assertEquals(40, check.get("allocated-clusters").asInt(), check.toString());
    assertEquals(0, check.path("fragmented-clusters").asInt(0), check.toString());
    JsonNode map = JSON.readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString()));
    long data = 0;
    for (JsonNode e : map) {
      if (e.get("data").asBoolean()) {
        assertEquals(2L * C, e.get("offset").asLong() - e.get("start").asLong() + 3L * C, "right after header and L1");
        data += e.get("length").asLong();
      }
    }
    assertEquals(40L * C, data, "one run");
  }

  @ParameterizedTest(name = "virtual size {0}, nothing written")
  @ValueSource(ints = {0, 512, 65536, 3 * 65536 + 512})
  void emptyImages(int size) throws Exception {
    Path img = dir.resolve("empty-" + size + ".qcow2");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      w.commit();
    }
    judge(img, new Model(size));
  }

  @Test
  void hugeSparseImageStaysSmall() throws Exception {
    long size = (1L << 40) + 3 * 512; // 1 TiB and a partial last cluster
    Random r = new Random(31);
    List<Write> writes = new ArrayList<>();
    for (long at : new long[] {0, 3L << 30, (1L << 39) + 12345 * 512, (1L << 40) - 2 * C}) {
      byte[] b = new byte[2 * C + 1024];
      r.nextBytes(b);
      writes.add(new Write(at, b));
    }
    byte[] tail = new byte[3 * 512];
    r.nextBytes(tail);
    writes.add(new Write(1L << 40, tail));
    writes.add(new Write(1L << 38, new byte[8 << 20])); // 8 MiB of zeros: nothing allocated
    Path img = dir.resolve("huge.qcow2");
    Path raw = dir.resolve("huge.raw");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false);
        RandomAccessFile f = new RandomAccessFile(raw.toFile(), "rw")) {
      f.setLength(size);
      for (Write x : writes) {
        w.write(x.offset, ByteBuffer.wrap(x.data));
        f.seek(x.offset);
        f.write(x.data);
      }
      w.commit();
    }
    JsonNode check = check(img);
    assertInfo(img, size);
    assertEquals("Images are identical.", Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw",
        img.toString(), raw.toString()).strip());
    long data = Qemu.map(img).stream().filter(e -> !e.zero()).mapToLong(Extent::length).sum();
    // 3 clusters per write, the last write's third being the partial last cluster the tail shares
    assertEquals(11 * C + 512 * 3, data, "the clusters written, and nothing else");
    // header, L1 (2049 entries: 1 cluster), 12 data clusters, 5 L2 tables, refcount table + 1 block
    long fileSize = Files.size(img);
    assertEquals((1 + 1 + 12 + 5 + 1 + 1) * (long) C, fileSize);
    assertEquals(fileSize, check.get("image-end-offset").asLong());
    try (Qcow2Image q = Qcow2Image.open(img); FileChannel f = FileChannel.open(raw)) {
      for (Write x : writes) {
        ByteBuffer back = ByteBuffer.allocate(x.data.length);
        q.readFully(x.offset, back);
        ByteBuffer expected = ByteBuffer.allocate(x.data.length);
        f.read(expected, x.offset);
        assertArrayEquals(expected.array(), back.array(), "at " + x.offset);
      }
      assertEquals(Qemu.zeroMap(img), q.allocation());
    }
    System.out.printf("1 TiB image with %d bytes of data: %d bytes on disk%n", data, fileSize);
  }

  @Test
  void theLargestVirtualSize() throws Exception {
    long size = Qcow2ImageWriter.MAX_VIRTUAL_SIZE; // 64 TiB: an L1 table of 16 clusters
    byte[] b = new byte[C + 512];
    new Random(51).nextBytes(b);
    Path img = dir.resolve("max.qcow2");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, size, false)) {
      w.write(size - b.length, ByteBuffer.wrap(b));
      w.write(0, ByteBuffer.wrap(b));
      w.commit();
    }
    JsonNode check = check(img);
    assertInfo(img, size);
    assertEquals(List.of(new Extent(0, 2 * C, false), new Extent(2 * C, size - 4 * C, true),
        new Extent(size - 2 * C, 2 * C, false)), Qemu.map(img));
    // header, 16 L1 clusters, 4 data clusters, 2 L2 tables, refcount table and block
    assertEquals((1 + 16 + 4 + 2 + 1 + 1) * (long) C, Files.size(img));
    assertEquals(Files.size(img), check.get("image-end-offset").asLong());
    try (Qcow2Image q = Qcow2Image.open(img)) {
      ByteBuffer back = ByteBuffer.allocate(b.length);
      q.readFully(size - b.length, back);
      assertArrayEquals(b, back.array());
      assertEquals(Qemu.zeroMap(img), q.allocation());
    }
  }

  @Test
  void refusesAnExistingTargetAndLeavesNothingWhenNotCommitted() throws Exception {
    Path img = dir.resolve("x.qcow2");
    Files.writeString(img, "keep me");
    assertThrows(FileAlreadyExistsException.class, () -> Qcow2ImageWriter.create(img, C, false));
    assertThrows(UnsupportedImageException.class,
        () -> Qcow2ImageWriter.create(dir.resolve("too-big.qcow2"), Qcow2ImageWriter.MAX_VIRTUAL_SIZE + 512, false));
    assertTrue(Publish.leftoversOf(dir.resolve("too-big.qcow2")).isEmpty());
    assertEquals("keep me", Files.readString(img));
    Path other = dir.resolve("y.qcow2");
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(other, 4 * C, false)) {
      w.write(C, ByteBuffer.wrap(new byte[] {1, 2, 3}));
      assertThrows(IOException.class, () -> w.write(4 * C - 1, ByteBuffer.wrap(new byte[2])), "beyond the size");
    }
    assertFalse(Files.exists(other));
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(img), s.toList(), "no temporary file left");
    }
    try (Qcow2ImageWriter w = Qcow2ImageWriter.create(img, 4 * C, true)) {
      w.write(C, ByteBuffer.wrap(new byte[] {1, 2, 3}));
      w.commit();
    }
    check(img);
    assertTrue(Publish.leftoversOf(img).isEmpty());
  }

  /** Every check against QEMU and our reader, for an image whose guest {@code model} holds. */
  private void judge(Path img, Model model) throws Exception {
    JsonNode check = check(img);
    assertEquals(Files.size(img), check.get("image-end-offset").asLong(), "no data beyond the image's end");
    assertInfo(img, model.bytes.length);
    Path raw = dir.resolve(img.getFileName() + ".raw");
    Files.write(raw, model.bytes);
    assertEquals("Images are identical.", Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw",
        img.toString(), raw.toString()).strip());
    if (model.bytes.length > 0) { // qemu-img map lists one empty extent for an empty disk
      assertEquals(model.map(), Qemu.map(img), "qemu-img map: data exactly where non-zero bytes were written");
    }
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(3, q.version());
      assertEquals(model.bytes.length, q.virtualSize());
      // the reader's allocation is what QEMU reads as zeros: the unwritten parts of a written cluster too,
      // where QEMU asks the file system about them
      assertEquals(model.bytes.length == 0 ? List.of() : Qemu.zeroMap(img), q.allocation(), "our reader's map");
      byte[] back = new byte[model.bytes.length];
      q.readFully(0, ByteBuffer.wrap(back));
      assertArrayEquals(sha256(model.bytes), sha256(back), "our reader's guest hash");
    }
    Files.delete(raw);
  }

  /** qemu-img check: no corruption, no leak, no check error (it exits non-zero on any of them too). */
  private static JsonNode check(Path img) throws Exception {
    JsonNode check = JSON.readTree(Qemu.run("qemu-img", "check", "--output=json", "-f", "qcow2", img.toString()));
    assertEquals(0, check.path("check-errors").asInt(-1), check.toString());
    assertEquals(0, check.path("corruptions").asInt(0), check.toString());
    assertEquals(0, check.path("leaks").asInt(0), check.toString());
    assertEquals(0, check.path("corruptions-fixed").asInt(0), check.toString());
    return check;
  }

  /** qemu-img info: qcow2 v3 (compat 1.1), 64 KiB clusters, 16-bit refcounts, clean. */
  private static void assertInfo(Path img, long size) throws Exception {
    JsonNode info = JSON.readTree(Qemu.run("qemu-img", "info", "--output=json", "-f", "qcow2", img.toString()));
    assertEquals("qcow2", info.get("format").asText());
    assertEquals(size, info.get("virtual-size").asLong());
    assertEquals(C, info.get("cluster-size").asInt());
    assertFalse(info.path("dirty-flag").asBoolean(true), "dirty flag");
    JsonNode data = info.get("format-specific").get("data");
    assertEquals("1.1", data.get("compat").asText(), "compat 1.1 = version 3");
    assertEquals(16, data.get("refcount-bits").asInt());
    assertFalse(data.get("corrupt").asBoolean());
    assertFalse(data.path("lazy-refcounts").asBoolean());
    assertFalse(info.has("backing-filename"));
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(8);
      ch.read(h, 0);
      assertEquals(3, h.getInt(4), "header version");
    }
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }
}
