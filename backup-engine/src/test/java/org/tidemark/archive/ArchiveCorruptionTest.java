package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Damages an archive in each of its regions and checks that verify finds it, and where. */
class ArchiveCorruptionTest {
  @TempDir Path dir;
  private Path good;
  private byte[] guest;
  private final Map<String, long[]> regions = new LinkedHashMap<>(); // name -> {start, length}

  @BeforeEach
  void writeArchive() throws IOException {
    ArchiveFixtures.Disk disk = ArchiveFixtures.Disk.dense("vda", 11, 1 << 19);
    guest = disk.guest;
    good = ArchiveFixtures.write(dir.resolve("good.tar"), List.of(disk), 64 << 10, Codec.ZSTD);
    assertEquals(List.of(), ArchiveVerifier.verify(good));
    try (TarFile tar = new TarFile(good)) {
      for (TarArchiveEntry e : tar.getEntries()) {
        regions.put("header of " + e.getName(), new long[] {e.getDataOffset() - 512, 512});
        regions.put("data of " + e.getName(), new long[] {e.getDataOffset(), e.getSize()});
      }
    }
  }

  private Path damaged(String name) throws IOException {
    Path p = dir.resolve(name.replaceAll("[^a-z0-9]", "_") + ".tar");
    Files.copy(good, p, StandardCopyOption.REPLACE_EXISTING);
    return p;
  }

  private static void flipBit(Path p, long offset, int bit) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(offset);
      int b = f.read();
      f.seek(offset);
      f.write(b ^ (1 << bit));
    }
  }

  @Test
  void aFlippedBitInAnyRegionIsFound() throws IOException {
    Random r = new Random(42);
    int chunkRegions = 0;
    for (Map.Entry<String, long[]> region : regions.entrySet()) {
      long[] span = region.getValue();
      if (span[1] == 0) {
        continue;
      }
      // in a header, stay in the fields the checksum covers (name .. prefix, not the padding)
      long offset = span[0] + (long) (r.nextDouble() * (region.getKey().startsWith("header") ? 345 : span[1]));
      Path p = damaged(region.getKey());
      flipBit(p, offset, r.nextInt(8));
      List<Finding> findings = ArchiveVerifier.verify(p);
      assertFalse(findings.isEmpty(), "flipped bit at " + offset + " in " + region.getKey() + " went unnoticed");
      if (region.getKey().startsWith("data of disks/")) {
        chunkRegions++;
        long guest = Long.parseLong(region.getKey().replaceAll(".*/([0-9a-f]{16})\\..*", "$1"), 16);
        assertTrue(findings.stream().anyMatch(f -> f.disk().equals(java.util.Optional.of("vda"))
            && f.offset().getAsLong() == guest), region.getKey() + " -> " + findings);
      }
      if (region.getKey().startsWith("header of disks/")) {
        // A chunk's tar header matters to tar, not to a restore: the sealed index says where the
        // data is, and the data checks against its CRC-32C. Every guest byte still reads back.
        assertArrayEquals(guest, readAll(p), region.getKey());
        continue;
      }
      assertThrows(ArchiveException.class, () -> readAll(p), region.getKey());
    }
    assertTrue(chunkRegions >= 5, "the fixture has several chunks: " + chunkRegions);
  }

  /** Every guest byte of the archive's one disk, read through the reader. */
  private byte[] readAll(Path p) throws IOException {
    try (ArchiveReader rd = ArchiveReader.open(p)) {
      byte[] disk = new byte[(int) rd.manifest().disks().get(0).virtualSize()];
      byte[] buf = new byte[ArchiveWriter.MAX_CHUNK];
      for (ChunkRecord c : rd.chunks()) {
        rd.readChunk(c, buf);
        System.arraycopy(buf, 0, disk, (int) c.offset(), c.rawLength());
      }
      return disk;
    }
  }

  @Test
  void aTruncatedArchiveIsIncomplete() throws IOException {
    long size = Files.size(good);
    for (long cut : new long[] {size - 1, size - 1024 - 512, size / 2, 700, 0}) {
      Path p = damaged("cut" + cut);
      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
        f.setLength(cut);
      }
      List<Finding> findings = ArchiveVerifier.verify(p);
      assertFalse(findings.isEmpty(), "cut at " + cut);
      assertThrows(ArchiveCorruptException.class, () -> ArchiveReader.open(p).close(), "cut at " + cut);
    }
  }

  @Test
  void swappedChunksAreFound() throws IOException {
    ArchiveFixtures.Disk d = ArchiveFixtures.Disk.dense("vda", 12, 1 << 20);
    Path p = ArchiveFixtures.write(dir.resolve("raw.tar"), List.of(d), 64 << 10, Codec.NONE);
    List<long[]> chunks = new ArrayList<>();
    try (ArchiveReader r = ArchiveReader.open(p)) {
      for (ChunkRecord c : r.chunks()) {
        if (c.storedLength() == 64 << 10) {
          chunks.add(new long[] {c.dataOffset(), c.offset()});
        }
      }
    }
    byte[] a = new byte[64 << 10];
    byte[] b = new byte[64 << 10];
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.seek(chunks.get(1)[0]);
      f.readFully(a);
      f.seek(chunks.get(2)[0]);
      f.readFully(b);
      f.seek(chunks.get(1)[0]);
      f.write(b);
      f.seek(chunks.get(2)[0]);
      f.write(a);
    }
    List<Finding> findings = ArchiveVerifier.verify(p);
    assertEquals(2, findings.size(), findings.toString());
    assertEquals(chunks.get(1)[1], findings.get(0).offset().getAsLong());
    assertEquals(chunks.get(2)[1], findings.get(1).offset().getAsLong());
  }

  @Test
  void aNewerFormatVersionIsRefusedAsSuch() throws IOException {
    // rewrite the seal's version digit in place: the seal is the last entry
    long[] seal = regions.get("data of seal.json");
    Path p = damaged("newer");
    byte[] bytes = Files.readAllBytes(p);
    String text = new String(bytes, (int) seal[0], (int) seal[1], java.nio.charset.StandardCharsets.UTF_8);
    int at = text.indexOf("\"formatVersion\" : 2"); // the fixture's created is a whole second
    assertTrue(at >= 0, text);
    bytes[(int) seal[0] + at + "\"formatVersion\" : ".length()] = '9';
    Files.write(p, bytes);
    // the tar header checksum does not cover data, so the file is still a valid tar
    assertThrows(ArchiveVersionException.class, () -> ArchiveReader.open(p).close());
  }
}
