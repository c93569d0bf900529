package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.qcow2.HoleyImages;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark image map --json} prints exactly what {@code qemu-img map --output=json} prints
 * (the parsed documents are equal, entry by entry and field by field) for images whose data
 * clusters lie partly in holes of the file ({@link HoleyImages}, seeded): fresh and sparse images
 * with 1 MiB and 64 KiB clusters after partial writes, punched holes, compressed clusters, qcow2 and
 * raw backing files, external data files and extended L2 entries.
 */
class ImageMapHolesCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;

  static Stream<String> cases() {
    return HoleyImages.cases(11, 12).stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void imageMapEqualsQemuImgMap(String name) throws Exception {
    Path img = HoleyImages.make(dir, name);
    JsonNode qemu = JSON.readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString()));
    Cli.Result r = Cli.run("image", "map", "--json", img.toString());
    assertEquals(0, r.code(), r.toString());
    assertEquals(qemu, JSON.readTree(r.out()));
  }
}
