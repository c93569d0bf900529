package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.qcow2.Fixtures;
import org.tidemark.qcow2.QemuJson;

/**
 * {@code tidemark image info|map|bitmap --json}, run in-process, against the JSON QEMU's tools
 * printed for every image of the fixture corpus (backup-engine's {@link Fixtures}).
 */
class CorpusCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  static List<String> images() throws IOException {
    return Fixtures.images();
  }

  private static Path file(String image) {
    return Fixtures.corpus().resolve(image);
  }

  private static JsonNode truth(String image, String suffix) throws IOException {
    return JSON.readTree(Files.readString(Path.of(file(image) + suffix)));
  }

  private static JsonNode ok(String... args) throws IOException {
    Cli.Result r = Cli.run(args);
    assertEquals(0, r.code(), r.toString());
    assertEquals("", r.err(), r.toString());
    return JSON.readTree(r.out());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void imageMapPrintsQemuImgMaps(String image) throws Exception {
    JsonNode ours = ok("image", "map", "--json", file(image).toString());
    assertEquals(QemuJson.mapRuns(truth(image, ".map.json")), QemuJson.mapRuns(ours));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void imageBitmapPrintsNbdinfosMaps(String image) throws Exception {
    long size = truth(image, ".info.json").get("virtual-size").asLong();
    for (JsonNode b : truth(image, ".bitmaps.json")) {
      String name = b.get("name").asText();
      Cli.Result r = Cli.run("image", "bitmap", "--json", file(image).toString(), name);
      if (b.has("map")) {
        assertEquals(0, r.code(), r.toString());
        JsonNode ours = JSON.readTree(r.out());
        assertEquals(QemuJson.dirty(b.get("map")), QemuJson.dirty(ours), name);
        // the runs cover the disk without a gap, as nbdinfo's do
        long pos = 0;
        for (JsonNode e : ours) {
          assertEquals(pos, e.get("offset").asLong(), name);
          assertEquals(e.get("type").asInt() == 1 ? "dirty" : "clean", e.get("description").asText());
          pos += e.get("length").asLong();
        }
        assertEquals(size, pos, name);
      } else {
        // qemu-nbd refuses an in-use bitmap: so does the command, on one line
        assertNotEquals(0, r.code(), r.toString());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), r.toString());
        assertTrue(err.contains("in use"), r.toString());
      }
    }
  }

  static List<String> badImages() throws IOException {
    return Fixtures.badImages();
  }

  /**
   * Every malformed image, through info, map, bitmap and compare (against good.qcow2): where QEMU
   * refuses it, some command exits with the documented code for invalid input and one line naming
   * the file; none ever fails another way. Where QEMU reads it, every command succeeds and the
   * guest disk equals good.qcow2's.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("badImages")
  void malformedImagesGetOneLineAndTheInvalidInputCode(String image) throws Exception {
    String bad = file(image).toString();
    String expect = Files.readString(Path.of(bad + ".expect.txt"));
    boolean qemuRefuses = !expect.lines().filter(l -> l.startsWith("qemu-io ")).findFirst().orElseThrow().contains(": exit 0");
    List<Cli.Result> results = List.of(
        Cli.run("image", "info", "--json", bad),
        Cli.run("image", "map", "--json", bad),
        Cli.run("image", "bitmap", "--json", bad, "b"),
        Cli.run("image", "compare", bad, file("bad/good.qcow2").toString()));
    boolean refused = false;
    for (Cli.Result r : results) {
      // compare opens any file, probing the format like qemu-img without -f: a broken magic reads
      // as a raw image, which differs from good.qcow2 (as does an image not made from it)
      boolean compareDiffers = r == results.get(3) && r.code() == ExitCodes.DIFFERENT;
      assertTrue(!compareDiffers || qemuRefuses, "an image QEMU reads equals good.qcow2: " + r);
      if (r.code() != 0 && !compareDiffers) {
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + r);
        assertTrue(err.startsWith("tidemark: ") && err.contains(file(image).getFileName().toString()), r.toString());
        refused = true;
      }
    }
    assertEquals(qemuRefuses, refused, image + ": " + results);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("images")
  void imageInfoPrintsQemuImgInfosFacts(String image) throws Exception {
    ObjectNode theirs = (ObjectNode) truth(image, ".info.json");
    ObjectNode ours = (ObjectNode) ok("image", "info", "--json", file(image).toString());
    // what only QEMU knows: the file's allocated bytes and its own resolution of the backing name
    theirs.remove(List.of("actual-size", "full-backing-filename"));
    assertEquals(Path.of(theirs.remove("filename").asText()).getFileName(), Path.of(ours.remove("filename").asText()).getFileName());
    assertEquals(theirs, ours);
  }
}
