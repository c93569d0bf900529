package org.tidemark.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.internal.Holes;
import org.tidemark.qcow2.Qemu;

/**
 * A raw image's allocation is the file's runs of data and holes exactly as {@code qemu-img map}
 * reports them (QEMU asks the file system the same way); where the file system tells nothing, the
 * whole disk is data, as before; and a fully allocated file costs two queries, however it is asked.
 */
class RawImageHolesTest {
  @TempDir Path dir;

  private Path sparse(String name, long size, long seed, int writes) throws Exception {
    Path file = dir.resolve(name);
    Random r = new Random(seed);
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size); // a hole of the whole size
      FileChannel ch = f.getChannel();
      for (int i = 0; i < writes; i++) {
        byte[] b = new byte[1 + r.nextInt(300_000)];
        r.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), (r.nextLong() & Long.MAX_VALUE) % (size - b.length));
      }
      if (r.nextBoolean()) {
        ch.write(ByteBuffer.wrap(new byte[] {1}), size - 1); // data at the very end
      }
    }
    return file;
  }

  /** qemu-img map's runs of the raw file: zero where it says no data. */
  private static List<Extent> qemuMap(Path file) throws Exception {
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : new ObjectMapper().readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "raw", file.toString()))) {
      Extent x = new Extent(e.get("start").asLong(), e.get("length").asLong(), !e.get("data").asBoolean());
      if (!out.isEmpty() && out.get(out.size() - 1).end() == x.offset() && out.get(out.size() - 1).zero() == x.zero()) {
        Extent last = out.remove(out.size() - 1);
        x = new Extent(last.offset(), last.length() + x.length(), x.zero());
      }
      out.add(x);
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void allocationIsQemuImgMapsRuns(long seed) throws Exception {
    Path file = sparse("d.raw", (8L << 20) + new Random(seed).nextInt(1 << 20) * 4096L, seed, (int) seed * 3);
    try (RawImage raw = RawImage.open(file)) {
      List<Extent> ours = raw.allocation();
      assertEquals(qemuMap(file), ours);
      assertTrue(raw.holeQueries() <= 2L * ours.size() + 2, raw.holeQueries() + " queries for " + ours.size() + " runs");
    }
  }

  /** A fully written file of random bytes; returns its bytes. */
  private byte[] fullFile(Path file, int size, long seed) throws Exception {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    java.nio.file.Files.write(file, b);
    return b;
  }

  @Test
  void aFullyAllocatedFileCostsTwoQueriesHoweverItIsAsked() throws Exception {
    Path file = dir.resolve("full.raw");
    byte[] b = fullFile(file, 16 << 20, 9);
    try (RawImage raw = RawImage.open(file)) {
      for (long at = 0; at < b.length; at += 64 << 10) {
        assertEquals(List.of(new Extent(at, 64 << 10, false)), raw.extents(at, at + (64 << 10)));
      }
      assertEquals(List.of(new Extent(0, b.length, false)), raw.allocation());
      assertTrue(raw.holeQueries() <= 2, raw.holeQueries() + " queries for one run of data");
    }
  }

  @Test
  void whereTheFileSystemTellsNothingTheWholeDiskIsData() throws Exception {
    Path file = sparse("n.raw", 8L << 20, 11, 3);
    try (RawImage raw = RawImage.open(file, p -> Holes.none())) {
      assertEquals(List.of(new Extent(0, 8L << 20, false)), raw.allocation());
      ByteBuffer all = ByteBuffer.allocate(8 << 20);
      raw.readFully(0, all);
      assertEquals(ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file)), all.flip());
    }
    assertTrue(qemuMap(file).size() > 1, "the file has holes the fallback does not see");
  }

  @Test
  void aFileCutAfterItWasOpenedIsAnErrorNotAHole() throws Exception {
    Path file = dir.resolve("cut.raw");
    byte[] b = fullFile(file, 8 << 20, 12);
    try (RawImage raw = RawImage.open(file)) {
      try (FileChannel ch = FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
        ch.truncate(b.length / 2); // another process cuts the file
      }
      java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class, raw::allocation);
      assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("ends at " + b.length / 2),
          e.getMessage());
    }
  }
}
