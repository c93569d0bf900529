package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.Extent;

/**
 * The native reader against QEMU on images QEMU writes at test time: for every image, the
 * allocation map equals {@code qemu-img map}'s, every guest byte equals {@code qemu-img convert}'s
 * raw output, and every bitmap's dirty extents (and their union) equal what qemu-nbd exports.
 */
class Qcow2ImageQemuTest {
  @TempDir static Path dir;
  private static final Map<String, Path> IMAGES = new LinkedHashMap<>();

  private static void qemuIo(Path img, String... cmds) throws Exception {
    List<String> c = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (String cmd : cmds) {
      c.add("-c");
      c.add(cmd);
    }
    c.add(img.toString());
    Qemu.run(c.toArray(String[]::new));
  }

  /** Random guest writes (data from a seeded pattern file), zero writes and discards. */
  private static void history(Path img, long seed, int clusterSize, long size, int writes) throws Exception {
    Random r = new Random(seed);
    Path pattern = dir.resolve("pattern-" + seed);
    byte[] data = new byte[4 * clusterSize + 4096];
    r.nextBytes(data);
    Files.write(pattern, data);
    List<String> cmds = new ArrayList<>();
    for (int i = 0; i < writes; i++) {
      long len = 1 + r.nextInt(3 * clusterSize);
      long off = (long) (r.nextDouble() * (size - len));
      switch (r.nextInt(6)) {
        case 0 -> cmds.add("write -q -z " + off + " " + len);
        case 1 -> cmds.add("discard -q " + (off / 512 * 512) + " " + Math.max(512, len / 512 * 512));
        case 2 -> cmds.add("write -q -P " + r.nextInt(256) + " " + off + " " + len);
        default -> cmds.add("write -q -s " + pattern + " " + off + " " + len);
      }
    }
    qemuIo(img, cmds.toArray(String[]::new));
  }

  private static Path create(String name, String options, long size) throws Exception {
    Path img = dir.resolve(name + ".qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", options, img.toString(), Long.toString(size));
    IMAGES.put(name, img);
    return img;
  }

  @BeforeAll
  static void buildImages() throws Exception {
    long seed = 100;
    for (int cluster : new int[] {512, 4096, 65536, 2 << 20}) {
      long size = cluster == 512 ? 3 << 20 : cluster == 2 << 20 ? 48L << 20 : 24L << 20;
      Path img = create("v3-c" + cluster, "cluster_size=" + cluster, size + 4096 + 512);
      history(img, seed++, cluster, size, 30);
      Qemu.run("qemu-img", "bitmap", "--add", "-g", Integer.toString(Math.max(cluster, 4096) * 2), img.toString(), "cp1");
      history(img, seed++, cluster, size, 15);
      Qemu.run("qemu-img", "bitmap", "--add", img.toString(), "cp2");
      history(img, seed++, cluster, size, 10);
    }
    for (int cluster : new int[] {65536, 2 << 20}) {
      long size = 24L << 20;
      Path img = create("extended-l2-c" + cluster, "extended_l2=on,cluster_size=" + cluster, size);
      history(img, seed++, cluster / 32, size, 40); // writes at subcluster granularity
      history(img, seed++, cluster, size, 10);
    }
    Path v2 = create("v2-c4096", "compat=0.10,cluster_size=4096", 8L << 20);
    history(v2, seed++, 4096, 8L << 20, 40);
    Path disabled = create("disabled-bitmap", "cluster_size=65536", 32L << 20);
    history(disabled, seed++, 65536, 32L << 20, 10);
    Qemu.run("qemu-img", "bitmap", "--add", disabled.toString(), "old");
    history(disabled, seed++, 65536, 32L << 20, 10);
    Qemu.run("qemu-img", "bitmap", "--disable", disabled.toString(), "old");
    Qemu.run("qemu-img", "bitmap", "--add", disabled.toString(), "new");
    history(disabled, seed++, 65536, 32L << 20, 10);
    for (String type : new String[] {"zlib", "zstd"}) {
      Path src = dir.resolve("src-" + type + ".qcow2");
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", src.toString(), "16M");
      history(src, seed++, 65536, 16L << 20, 40);
      qemuIo(src, "write -q -P 0x41 1M 3M");
      Path img = dir.resolve("compressed-" + type + ".qcow2");
      Qemu.run("qemu-img", "convert", "-q", "-c", "-f", "qcow2", "-O", "qcow2", "-o", "compression_type=" + type,
          src.toString(), img.toString());
      history(img, seed++, 65536, 16L << 20, 5); // a few uncompressed clusters among the compressed ones
      IMAGES.put("compressed-" + type, img);
    }
    // a backing chain of three qcow2 layers, each larger than the one below, with bitmaps in two
    Path base = create("chain-base", "cluster_size=65536", 8L << 20);
    history(base, seed++, 65536, 8L << 20, 20);
    Qemu.run("qemu-img", "bitmap", "--add", base.toString(), "cp1");
    history(base, seed++, 65536, 8L << 20, 5);
    Path mid = dir.resolve("chain-mid.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.getFileName().toString(), "-F", "qcow2",
        mid.toString(), Long.toString(12L << 20));
    Qemu.run("qemu-img", "bitmap", "--add", mid.toString(), "cp1");
    history(mid, seed++, 65536, 12L << 20, 15);
    Path top = dir.resolve("chain-top.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=4096", "-b", mid.toString(), "-F", "qcow2",
        top.toString(), Long.toString(16L << 20));
    Qemu.run("qemu-img", "bitmap", "--add", top.toString(), "cp1");
    history(top, seed++, 4096, 16L << 20, 15);
    IMAGES.put("chain-mid", mid);
    IMAGES.put("chain-top", top);
    // a raw backing file with data everywhere (no holes: see docs/qcow2.md on holes)
    Path raw = dir.resolve("raw-backing.raw");
    byte[] rawData = new byte[3 << 20];
    new Random(seed++).nextBytes(rawData);
    Files.write(raw, rawData);
    Path overRaw = dir.resolve("over-raw.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", raw.toString(), "-F", "raw", overRaw.toString(), "4M");
    history(overRaw, seed++, 65536, 4L << 20, 8);
    IMAGES.put("over-raw", overRaw);
    Path empty = create("empty", "cluster_size=65536", 1L << 40); // 1 TiB, nothing written
    qemuIo(empty, "write -q -P 0x11 " + ((1L << 40) - 65536) + " 65536");
  }

  static Stream<String> images() {
    return IMAGES.keySet().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void allocationMapEqualsQemuImgMap(String name) throws Exception {
    Path img = IMAGES.get(name);
    try (Qcow2Image q = Qcow2Image.open(img)) {
      List<Extent> ours = new ArrayList<>();
      q.allocation().forEach(e -> Qemu.add(ours, e));
      assertEquals(Qemu.zeroMap(img), ours);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void mapEntriesEqualQemuImgMapJson(String name) throws Exception {
    Path img = IMAGES.get(name);
    com.fasterxml.jackson.databind.JsonNode map = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString()));
    List<Qcow2Image.MapEntry> expected = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode e : map) {
      expected.add(new Qcow2Image.MapEntry(e.get("start").asLong(), e.get("length").asLong(), e.get("depth").asInt(),
          e.get("present").asBoolean(), e.get("zero").asBoolean(), e.get("data").asBoolean(),
          e.has("offset") ? java.util.OptionalLong.of(e.get("offset").asLong()) : java.util.OptionalLong.empty()));
    }
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(expected, q.mapEntries());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void everyGuestByteEqualsQemu(String name) throws Exception {
    if (name.equals("empty")) {
      return; // 1 TiB: checked by its own test below
    }
    Path img = IMAGES.get(name);
    byte[] expected = Qemu.guestBytes(img, dir);
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(expected.length, q.virtualSize());
      byte[] ours = new byte[expected.length];
      // uneven read sizes cross cluster boundaries at every alignment
      Random r = new Random(7);
      int pos = 0;
      while (pos < ours.length) {
        int n = Math.min(ours.length - pos, 1 + r.nextInt(200_000));
        q.readFully(pos, ByteBuffer.wrap(ours, pos, n));
        pos += n;
      }
      assertArrayEquals(expected, ours);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void bitmapsEqualWhatQemuNbdExports(String name) throws Exception {
    Path img = IMAGES.get(name);
    try (Qcow2Image q = Qcow2Image.open(img)) {
      if (name.startsWith("v3") || name.startsWith("disabled")) {
        assertEquals(2, q.bitmaps().size(), "the image was given two bitmaps");
      }
      List<String> names = new ArrayList<>();
      List<Extent> expectedUnion = new ArrayList<>();
      for (Qcow2Bitmap b : q.bitmaps()) {
        List<Extent> expected = Qemu.dirty(img, b.name());
        List<Extent> ours = new ArrayList<>();
        q.dirtyExtents(b).forEach(e -> Qemu.add(ours, e));
        assertEquals(expected, ours, b.name());
        names.add(b.name());
        expectedUnion.addAll(expected);
      }
      if (names.size() > 1) {
        List<Extent> union = new ArrayList<>();
        expectedUnion.stream().sorted(java.util.Comparator.comparingLong(Extent::offset)).forEach(e -> {
          if (!union.isEmpty() && union.get(union.size() - 1).end() >= e.offset()) {
            Extent last = union.remove(union.size() - 1);
            union.add(new Extent(last.offset(), Math.max(last.end(), e.end()) - last.offset(), false));
          } else {
            union.add(e);
          }
        });
        assertEquals(union, q.dirtyExtents(names), "union of " + names);
      }
    }
  }

  @Test
  void aBitmapMergesDownTheBackingChain() throws Exception {
    // QEMU's answer per layer (qemu-nbd exports the bitmap of the file it opens), united
    List<Extent> all = new ArrayList<>();
    for (String layer : new String[] {"chain-top", "chain-mid"}) {
      all.addAll(Qemu.dirty(IMAGES.get(layer), "cp1"));
    }
    all.addAll(Qemu.dirty(dir.resolve("chain-base.qcow2"), "cp1"));
    List<Extent> union = new ArrayList<>();
    all.stream().sorted(java.util.Comparator.comparingLong(Extent::offset)).forEach(e -> {
      if (!union.isEmpty() && union.get(union.size() - 1).end() >= e.offset()) {
        Extent last = union.remove(union.size() - 1);
        union.add(new Extent(last.offset(), Math.max(last.end(), e.end()) - last.offset(), false));
      } else {
        union.add(e);
      }
    });
    try (Qcow2Image q = Qcow2Image.open(IMAGES.get("chain-top"))) {
      assertEquals(3, q.layers().size());
      assertEquals(union, q.dirtyExtents(List.of("cp1")));
      assertEquals(new BitmapState(true, false, false, true), q.bitmap("cp1"));
    }
  }

  @Test
  void aLayerWithoutTheBitmapIsAGap() throws Exception {
    Path top = dir.resolve("gap-top.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", IMAGES.get("chain-top").toString(), "-F", "qcow2",
        top.toString(), Long.toString(16L << 20));
    Path top2 = dir.resolve("gap-top2.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", top.toString(), "-F", "qcow2", top2.toString(),
        Long.toString(16L << 20));
    Qemu.run("qemu-img", "bitmap", "--add", top2.toString(), "cp1");
    try (Qcow2Image q = Qcow2Image.open(top2)) {
      assertEquals(new BitmapState(true, true, false, true), q.bitmap("cp1"));
    }
    try (Qcow2Image q = Qcow2Image.open(top)) {
      assertEquals(new BitmapState(false, true, false, false), q.bitmap("cp1"));
    }
  }

  @Test
  void aBackingLoopIsRefused() throws Exception {
    Path a = dir.resolve("loop-a.qcow2");
    Path b = dir.resolve("loop-b.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", a.toString(), "1M");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", a.toString(), "-F", "qcow2", b.toString(), "1M");
    // point a at b without QEMU opening the chain (-u)
    Qemu.run("qemu-img", "rebase", "-u", "-f", "qcow2", "-b", b.toString(), "-F", "qcow2", a.toString());
    Qcow2Exception e = org.junit.jupiter.api.Assertions.assertThrows(CorruptImageException.class, () -> Qcow2Image.open(b).close());
    assertTrue(e.getMessage().contains("loops"), e.getMessage());
  }

  @Test
  void bitmapFlagsAreReported() throws Exception {
    try (Qcow2Image q = Qcow2Image.open(IMAGES.get("disabled-bitmap"))) {
      assertEquals(new BitmapState(true, false, false, false), q.bitmap("old"));
      assertEquals(new BitmapState(true, false, false, true), q.bitmap("new"));
      assertEquals(BitmapState.MISSING, q.bitmap("nope"));
    }
  }

  @Test
  void aTerabyteSparseImageReadsItsOnlyClusterAndNothingElse() throws Exception {
    try (Qcow2Image q = Qcow2Image.open(IMAGES.get("empty"))) {
      List<Extent> a = q.allocation();
      assertEquals(List.of(new Extent(0, (1L << 40) - 65536, true), new Extent((1L << 40) - 65536, 65536, false)), a);
      byte[] last = new byte[65536];
      q.readFully((1L << 40) - 65536, ByteBuffer.wrap(last));
      for (byte b : last) {
        assertEquals(0x11, b);
      }
      byte[] first = new byte[4096];
      first[0] = 1;
      q.readFully(0, ByteBuffer.wrap(first));
      assertFalse(first[0] != 0);
    }
  }

  @Test
  void anImageLeftOpenByAKilledQemuHasItsBitmapInUse() throws Exception {
    Path img = create("in-use", "cluster_size=65536", 8L << 20);
    Qemu.run("qemu-img", "bitmap", "--add", img.toString(), "cp1");
    Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", "write -q 0 64k", "-c", "sigraise 9", img.toString())
        .redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    p.waitFor();
    IMAGES.remove("in-use");
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertTrue(q.bitmap("cp1").inUse(), q.bitmaps().toString());
    }
  }
}
