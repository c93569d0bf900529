package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Data clusters whose host range is (wholly or partly) a hole of the file ({@link HoleyImages}):
 * the reader's map equals {@code qemu-img map --output=json} exactly (QEMU says {@code "zero":
 * true, "data": true} with the offset for a hole, where its metadata-preallocation rule has it ask
 * the file system), its allocation (what a backup reads) is what QEMU says reads as zeros, and
 * every guest byte equals {@code qemu-img convert}'s.
 */
class Qcow2HolesQemuTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;

  static Stream<String> cases() {
    return HoleyImages.cases(1, 2, 3).stream();
  }

  /** qemu-img map's entries, as the JSON says them. */
  static List<Qcow2Image.MapEntry> qemuMap(Path img) throws Exception {
    List<Qcow2Image.MapEntry> out = new ArrayList<>();
    for (JsonNode e : JSON.readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString()))) {
      out.add(new Qcow2Image.MapEntry(e.get("start").asLong(), e.get("length").asLong(), e.get("depth").asInt(),
          e.get("present").asBoolean(), e.get("zero").asBoolean(), e.get("data").asBoolean(),
          e.has("offset") ? OptionalLong.of(e.get("offset").asLong()) : OptionalLong.empty()));
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void mapAllocationAndBytesEqualQemus(String name) throws Exception {
    Path img = HoleyImages.make(dir, name);
    List<Qcow2Image.MapEntry> qemu = qemuMap(img);
    byte[] expected = Qemu.guestBytes(img, dir);
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(qemu, q.mapEntries());
      long queries = q.layers().stream().mapToLong(Qcow2Image::holeQueries).sum();
      assertTrue(queries <= 2L * qemu.size(), queries + " lseek calls for a map of " + qemu.size() + " runs");
      assertEquals(Qemu.zeroMap(img), q.allocation());
      byte[] ours = new byte[expected.length];
      q.readFully(0, ByteBuffer.wrap(ours));
      assertArrayEquals(expected, ours);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void theCasesHaveWhatTheyAreFor(String name) throws Exception {
    // guards the builder: sparse copies make QEMU report holes in data clusters
    if (name.startsWith("sparse-") || name.startsWith("extended-l2")) {
      Path img = HoleyImages.make(dir.resolve("guard"), name);
      assertTrue(qemuMap(img).stream().anyMatch(e -> e.zero() && e.data()), name + ": a data run in a hole");
    }
  }
}
