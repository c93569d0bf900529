package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ImageException;
import org.tidemark.disk.UnsupportedImageException;

/**
 * The native reader against QEMU's answers on every image of the fixture corpus ({@link Fixtures},
 * docs/qcow2.md "The fixture corpus"): allocation map, guest bytes, bitmaps and their merges, info
 * facts, and the reaction to every malformed image. The truth is always the JSON QEMU's tools
 * wrote when the corpus was made, never Tidemark's own output.
 */
class CorpusReaderTest {
  static final ObjectMapper JSON = new ObjectMapper();
  /** A hang guard only: every image here is read in well under a second. */
  private static final Duration HANG_GUARD = Duration.ofSeconds(120);

  static List<String> images() throws IOException {
    return Fixtures.images();
  }

  static List<String> badImages() throws IOException {
    return Fixtures.badImages();
  }

  static Path file(String image) {
    return Fixtures.corpus().resolve(image);
  }

  static JsonNode truth(String image, String suffix) throws IOException {
    return JSON.readTree(Files.readString(Path.of(file(image) + suffix)));
  }

  // ------------------------------------------------------------------ the allocation map

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void allocationMapEqualsQemuImgMap(String image) throws Exception {
    List<QemuJson.Run> expected = QemuJson.mapRuns(truth(image, ".map.json"));
    try (Qcow2Image q = Qcow2Image.open(file(image))) {
      assertEquals(expected, QemuJson.mapRuns(q));
    }
  }

  // ------------------------------------------------------------------ guest bytes

  /** The SHA-256 of the whole guest disk read through {@code source}, 4 MiB at a time. */
  static String guestSha256(DiskSource source) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    ByteBuffer buf = ByteBuffer.allocate(4 << 20);
    for (long pos = 0; pos < source.virtualSize(); ) {
      int n = (int) Math.min(buf.capacity(), source.virtualSize() - pos);
      buf.clear().limit(n);
      source.readFully(pos, buf);
      md.update(buf.array(), 0, n);
      pos += n;
    }
    return HexFormat.of().formatHex(md.digest());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void guestDiskSha256EqualsQemus(String image) throws Exception {
    String[] truth = Files.readString(Path.of(file(image) + ".sha256")).trim().split("\\s+");
    try (Qcow2Image q = Qcow2Image.open(file(image))) {
      assertEquals(Long.parseLong(truth[1]), q.virtualSize(), "virtual size");
      assertEquals(truth[0], guestSha256(q), "sha256 of the guest disk");
    }
  }

  // ------------------------------------------------------------------ bitmaps

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void everyBitmapEqualsWhatQemuNbdExports(String image) throws Exception {
    JsonNode bitmaps = truth(image, ".bitmaps.json");
    try (Qcow2Image q = Qcow2Image.open(file(image))) {
      assertEquals(bitmaps.size(), q.bitmaps().size(), "bitmaps: " + q.bitmaps());
      for (JsonNode b : bitmaps) {
        String name = b.get("name").asText();
        Qcow2Bitmap ours = q.bitmapNamed(name).orElseThrow(() -> new AssertionError("no bitmap '" + name + "'"));
        if (b.has("map")) {
          assertFalse(ours.inUse(), name);
          assertEquals(QemuJson.dirty(b.get("map")), QemuJson.merged(q.dirtyExtents(ours)), "bitmap '" + name + "'");
        } else {
          // qemu-nbd refuses an inconsistent (in-use) bitmap; the reader reports the flag
          assertTrue(b.get("error").asText().contains("inconsistent"), b.get("error").asText());
          assertTrue(ours.inUse(), name + " is in use");
        }
      }
    }
  }

  /** Every {@code IMG.union.A+B+....json} of the corpus: the image and the bitmaps QEMU merged. */
  static List<String> unions() throws IOException {
    Path root = Fixtures.corpus();
    try (var s = Files.walk(root)) {
      return s.map(p -> root.relativize(p).toString()).filter(p -> p.matches(".*\\.qcow2\\.union\\..*\\.json")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unions")
  void mergedBitmapsEqualQemusMerge(String union) throws Exception {
    Matcher m = Pattern.compile("(.*\\.qcow2)\\.union\\.(.*)\\.json").matcher(union);
    assertTrue(m.matches());
    List<String> names = Arrays.asList(m.group(2).split("\\+"));
    JsonNode map = JSON.readTree(Files.readString(Fixtures.corpus().resolve(union)));
    try (Qcow2Image q = Qcow2Image.open(file(m.group(1)))) {
      assertEquals(QemuJson.dirty(map), QemuJson.merged(q.dirtyExtents(names)), "union of " + names);
    }
  }

  // ------------------------------------------------------------------ info

  /** The facts of {@code qemu-img info --output=json} the reader knows, in QEMU's names. */
  static Map<String, Object> ourInfo(Qcow2Image q) throws IOException {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("virtual-size", q.virtualSize());
    info.put("cluster-size", (long) q.clusterSize());
    q.backingFileName().ifPresent(n -> info.put("backing-filename", n));
    q.backingFormat().ifPresent(n -> info.put("backing-filename-format", n));
    info.put("dirty-flag", q.dirty());
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("compat", q.version() == 2 ? "0.10" : "1.1");
    data.put("compression-type", q.compressionType());
    if (q.version() == 3) {
      data.put("lazy-refcounts", q.lazyRefcounts());
      data.put("corrupt", q.corrupt());
      data.put("extended-l2", q.extendedL2());
    }
    data.put("refcount-bits", (long) q.refcountBits());
    q.dataFile().ifPresent(f -> {
      data.put("data-file", f);
      data.put("data-file-raw", q.dataFileRaw());
    });
    if (!q.bitmaps().isEmpty()) {
      List<Object> bitmaps = new ArrayList<>();
      for (Qcow2Bitmap b : q.bitmaps()) {
        List<String> flags = new ArrayList<>();
        if (b.inUse()) {
          flags.add("in-use");
        }
        if (b.auto()) {
          flags.add("auto");
        }
        bitmaps.add(Map.of("name", b.name(), "granularity", b.granularity(), "flags", flags));
      }
      data.put("bitmaps", bitmaps);
    }
    info.put("format-specific", data);
    List<String> snapshots = new ArrayList<>();
    for (Qcow2Snapshot sn : q.snapshots()) {
      snapshots.add(sn.id() + " " + sn.name() + " " + sn.dateSec() + "." + sn.dateNsec() + " vm-clock " + sn.vmClockNsec()
          + " vm-state " + sn.vmStateSize() + " icount " + sn.icount().orElse(-1));
    }
    info.put("snapshots", snapshots);
    return info;
  }

  /** The same facts picked from QEMU's JSON. */
  static Map<String, Object> qemuInfo(JsonNode j) {
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("virtual-size", j.get("virtual-size").asLong());
    info.put("cluster-size", j.get("cluster-size").asLong());
    if (j.has("backing-filename")) {
      info.put("backing-filename", j.get("backing-filename").asText());
    }
    if (j.has("backing-filename-format")) {
      info.put("backing-filename-format", j.get("backing-filename-format").asText());
    }
    info.put("dirty-flag", j.get("dirty-flag").asBoolean());
    JsonNode d = j.get("format-specific").get("data");
    Map<String, Object> data = new LinkedHashMap<>();
    data.put("compat", d.get("compat").asText());
    data.put("compression-type", d.get("compression-type").asText());
    if (!d.get("compat").asText().equals("0.10")) {
      data.put("lazy-refcounts", d.get("lazy-refcounts").asBoolean());
      data.put("corrupt", d.get("corrupt").asBoolean());
      data.put("extended-l2", d.get("extended-l2").asBoolean());
    }
    data.put("refcount-bits", d.get("refcount-bits").asLong());
    if (d.has("data-file")) {
      data.put("data-file", d.get("data-file").asText());
      data.put("data-file-raw", d.get("data-file-raw").asBoolean());
    }
    if (d.has("bitmaps")) {
      List<Object> bitmaps = new ArrayList<>();
      for (JsonNode b : d.get("bitmaps")) {
        List<String> flags = new ArrayList<>();
        b.get("flags").forEach(f -> flags.add(f.asText()));
        bitmaps.add(Map.of("name", b.get("name").asText(), "granularity", b.get("granularity").asLong(), "flags", flags));
      }
      data.put("bitmaps", bitmaps);
    }
    info.put("format-specific", data);
    List<String> snapshots = new ArrayList<>();
    if (j.has("snapshots")) {
      for (JsonNode sn : j.get("snapshots")) {
        snapshots.add(sn.get("id").asText() + " " + sn.get("name").asText() + " " + sn.get("date-sec").asLong() + "."
            + sn.get("date-nsec").asLong() + " vm-clock " + (sn.get("vm-clock-sec").asLong() * 1_000_000_000L + sn.get("vm-clock-nsec").asLong())
            + " vm-state " + sn.get("vm-state-size").asLong() + " icount " + (sn.has("icount") ? sn.get("icount").asLong() : -1));
      }
    }
    info.put("snapshots", snapshots);
    return info;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void infoFactsEqualQemuImgInfo(String image) throws Exception {
    try (Qcow2Image q = Qcow2Image.open(file(image))) {
      assertEquals(qemuInfo(truth(image, ".info.json")), ourInfo(q));
      Path chain = Path.of(file(image) + ".info-chain.json");
      if (Files.exists(chain)) {
        // the backing chain, top first: each layer's format, size and backing file name
        List<String> expected = new ArrayList<>();
        for (JsonNode layer : JSON.readTree(Files.readString(chain))) {
          expected.add(layer.get("format").asText() + " " + layer.get("virtual-size").asLong() + " -> "
              + (layer.has("backing-filename") ? layer.get("backing-filename").asText() : "none"));
        }
        List<String> ours = new ArrayList<>();
        DiskSource layer = q;
        while (layer != null) {
          if (layer instanceof Qcow2Image l) {
            ours.add("qcow2 " + l.virtualSize() + " -> " + l.backingFileName().orElse("none"));
            layer = l.backing().orElse(null);
          } else {
            ours.add("raw " + layer.virtualSize() + " -> none");
            layer = null;
          }
        }
        assertEquals(expected, ours);
      }
    }
  }

  // ------------------------------------------------------------------ the corpus itself

  @Test
  void everyImageTheManifestNamesIsTestedHere() throws Exception {
    List<String> tested = new ArrayList<>(images());
    tested.addAll(badImages());
    tested.addAll(List.of("encrypted/luks.qcow2", "encrypted/aes.qcow2"));
    List<String> manifest = Files.readAllLines(Fixtures.corpus().resolve("MANIFEST.tsv"));
    assertTrue(manifest.size() > 30, "MANIFEST.tsv: " + manifest.size() + " lines");
    for (String line : manifest.subList(1, manifest.size())) {
      String image = line.split("\t")[0];
      assertTrue(tested.contains(image), image + " is in MANIFEST.tsv but no test reads it");
    }
    assertTrue(images().size() >= 38, "images QEMU read: " + images());
    assertTrue(badImages().size() >= 24, "malformed images: " + badImages());
    assertEquals(Fixtures.sha256(Fixtures.projectRoot().resolve("backup-engine/src/test/fixtures/make-fixtures.sh")),
        Files.readString(Fixtures.corpus().resolve(Fixtures.HASH_FILE)).trim(), "the corpus was made by this script");
  }

  @Test
  void concurrentCallersShareOneCorpusAndNoBuildIsLeftBehind() throws Exception {
    var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<Path>> all = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        all.add(pool.submit(Fixtures::corpus));
      }
      for (var f : all) {
        assertEquals(Fixtures.corpus(), f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    try (var s = Files.list(Fixtures.corpus().getParent())) {
      List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("fixtures.building-")).toList();
      assertEquals(List.of(), left, "a finished build leaves only target/fixtures");
    }
  }

  // ------------------------------------------------------------------ refusals

  @Test
  void encryptedImagesAreRefused() throws Exception {
    for (String image : List.of("encrypted/luks.qcow2", "encrypted/aes.qcow2")) {
      JsonNode info = truth(image, ".info.json");
      assertTrue(info.get("encrypted").asBoolean(), image);
      UnsupportedImageException e = assertThrows(UnsupportedImageException.class, () -> Qcow2Image.open(file(image)).close());
      assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
    }
  }

  /** For a malformed image QEMU refuses: words the reader's message must contain (the structure it names). */
  private static final Map<String, String> REFUSAL_WORDS = Map.ofEntries(
      Map.entry("bad-magic", "magic"),
      Map.entry("bitmap-count-2", "bitmap directory"),
      Map.entry("bitmap-extra-data", "bitmap directory entry"),
      Map.entry("bitmap-flag-bit2", "flags"),
      Map.entry("bitmap-gran-8", "granularity_bits 8"),
      Map.entry("bitmap-table-reserved", "bitmap table"),
      Map.entry("bitmap-table-unaligned", "bitmap table"),
      Map.entry("bitmap-type-2", "type 2"),
      Map.entry("cluster-bits-22", "cluster_bits 22"),
      Map.entry("cluster-bits-8", "cluster_bits 8"),
      Map.entry("compressed-past-eof", "compressed cluster"),
      Map.entry("crypt-method-3", "crypt_method 3"),
      Map.entry("header-length-100", "header_length 100"),
      Map.entry("l1-too-large", "l1_size"),
      Map.entry("l1-unaligned", "L1 table"),
      Map.entry("l2-past-eof", "L2 table"),
      Map.entry("loop", "loops"),
      Map.entry("missing-backing", "missing-base.qcow2"),
      Map.entry("refcount-order-7", "refcount_order 7"),
      Map.entry("size-huge", "size"),
      Map.entry("truncated", "past the end of the file"),
      Map.entry("unknown-incompat", "unknown incompatible feature"),
      Map.entry("version-4", "version 4"));

  /** Opens the image and reads everything: the map, every guest byte, every bitmap. */
  private static void readAll(Path img) throws Exception {
    try (Qcow2Image q = Qcow2Image.open(img)) {
      q.mapEntries();
      guestSha256(q);
      for (Qcow2Bitmap b : q.bitmaps()) {
        q.dirtyExtents(b);
      }
    }
  }

  /** The exit code QEMU's qemu-io read gave (0: QEMU reads the image), from {@code IMG.expect.txt}. */
  private static int qemuIoExit(String image) throws IOException {
    for (String line : Files.readAllLines(Path.of(file(image) + ".expect.txt"))) {
      Matcher m = Pattern.compile("^qemu-io .*: exit (\\d+).*").matcher(line);
      if (m.matches()) {
        return Integer.parseInt(m.group(1));
      }
    }
    throw new AssertionError("no qemu-io line in " + image + ".expect.txt");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badImages")
  void malformedImagesGetATypedErrorWhereQemuRefusesThem(String image) throws Exception {
    Path img = file(image);
    String stem = img.getFileName().toString().replace(".qcow2", "");
    if (qemuIoExit(image) == 0) {
      // QEMU reads it (the field patched is one QEMU ignores): so must we, with the same data
      assertTimeoutPreemptively(HANG_GUARD, () -> readAll(img));
      try (Qcow2Image q = Qcow2Image.open(img); Qcow2Image good = Qcow2Image.open(file("bad/good.qcow2"))) {
        assertEquals(guestSha256(good), guestSha256(q), "guest disk of " + image + " vs good.qcow2");
      }
      return;
    }
    Throwable t = assertTimeoutPreemptively(HANG_GUARD, () -> {
      try {
        readAll(img);
      } catch (Throwable e) {
        return e;
      }
      return null;
    });
    assertNotNull(t, image + " was read although QEMU refuses it: " + Files.readString(Path.of(img + ".expect.txt")));
    if (!(t instanceof CorruptImageException) && !(t instanceof UnsupportedImageException)) {
      fail(image + ": expected CorruptImageException or UnsupportedImageException, got " + t, t);
    }
    assertInstanceOf(ImageException.class, t);
    assertTrue(t.getMessage().startsWith(img.toString()), t.getMessage());
    String words = REFUSAL_WORDS.get(stem);
    assertNotNull(words, "no expected words for " + stem + " (message: " + t.getMessage() + ")");
    assertTrue(t.getMessage().contains(words), "'" + words + "' missing from: " + t.getMessage());
  }
}
