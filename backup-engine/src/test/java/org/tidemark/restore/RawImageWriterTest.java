package org.tidemark.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.Extent;
import org.tidemark.qcow2.Qemu;

/**
 * The raw restore writer leaves all-zero blocks as holes, as {@code qemu-img convert} does, and still
 * lets a later write of zeros win over data written before. Holes are what {@code qemu-img map}
 * (SEEK_DATA/SEEK_HOLE) reports.
 */
class RawImageWriterTest {
  @TempDir Path dir;

  /** The ranges qemu-img map finds data in, merged. */
  private static List<Extent> data(Path raw) throws Exception {
    JsonNode map = new ObjectMapper().readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "raw", raw.toString()));
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : map) {
      if (e.get("data").asBoolean()) {
        Extent x = new Extent(e.get("start").asLong(), e.get("length").asLong(), false);
        if (!out.isEmpty() && out.get(out.size() - 1).end() == x.offset()) {
          x = new Extent(out.get(out.size() - 1).offset(), out.get(out.size() - 1).length() + x.length(), false);
          out.set(out.size() - 1, x);
        } else {
          out.add(x);
        }
      }
    }
    return out;
  }

  @Test
  void zeroBlocksStayHolesAndLaterZerosStillWin() throws Exception {
    Path target = dir.resolve("vda.raw");
    byte[] expected = new byte[4 << 20];
    byte[] random = new byte[64 << 10];
    new Random(1).nextBytes(random);
    try (RawImageWriter w = RawImageWriter.create(target, expected.length, false)) {
      // 1 MiB of zeros then 64 KiB of data then zeros again, in one write
      byte[] mixed = new byte[(1 << 20) + (64 << 10) + (1 << 20)];
      System.arraycopy(random, 0, mixed, 1 << 20, random.length);
      w.write(0, ByteBuffer.wrap(mixed));
      System.arraycopy(mixed, 0, expected, 0, mixed.length);
      // data at 3 MiB, then zeros over its first half: the zeros must win
      w.write(3 << 20, ByteBuffer.wrap(random));
      w.write(3 << 20, ByteBuffer.wrap(new byte[32 << 10]));
      System.arraycopy(random, 32 << 10, expected, (3 << 20) + (32 << 10), 32 << 10);
      // an unaligned run of data that ends mid-block
      w.write((2 << 20) + 100, ByteBuffer.wrap(random, 0, 5000));
      System.arraycopy(random, 0, expected, (2 << 20) + 100, 5000);
      w.commit();
    }
    assertArrayEquals(expected, Files.readAllBytes(target));
    List<Extent> data = data(target);
    assertEquals(new Extent(1 << 20, 64 << 10, false), data.get(0), "the zeros around the data are holes: " + data);
    long dataBytes = data.stream().mapToLong(Extent::length).sum();
    // 64 KiB + two 4 KiB blocks of the unaligned run + the 64 KiB at 3 MiB (its zeroed half is written)
    assertEquals((64 << 10) + 8192 + (64 << 10), dataBytes, "allocated: " + data);
  }
}
