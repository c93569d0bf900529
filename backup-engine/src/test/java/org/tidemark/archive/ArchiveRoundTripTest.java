package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ArchiveRoundTripTest {
  @TempDir Path dir;

  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    long seed = 1;
    for (Codec codec : Codec.values()) {
      for (int chunk : new int[] {4096, 65536, 1 << 20}) {
        a.add(Arguments.of(seed++, codec, chunk));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "seed {0}, {1}, chunk {2}")
  @MethodSource("cases")
  void everyGuestByteComesBack(long seed, Codec codec, int chunk) throws IOException {
    List<ArchiveFixtures.Disk> disks = List.of(
        new ArchiveFixtures.Disk("vda", seed, 3 << 20, 9), new ArchiveFixtures.Disk("vdb", seed + 100, 777_777, 4));
    Path archive = ArchiveFixtures.write(dir.resolve("cp1.tar"), disks, chunk, codec);
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      assertArrayEquals(ArchiveFixtures.CHECKPOINT, r.checkpointXml());
      assertEquals("cp1", r.manifest().checkpoint());
      for (ArchiveFixtures.Disk d : disks) {
        byte[] restored = new byte[d.guest.length];
        byte[] buf = new byte[chunk];
        for (ChunkRecord c : r.chunks(d.name)) {
          r.readChunk(c, buf);
          System.arraycopy(buf, 0, restored, (int) c.offset(), c.rawLength());
        }
        assertArrayEquals(d.guest, restored, d.name);
        assertEquals(d.extents, r.manifest().disk(d.name).orElseThrow().extents());
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(archive), s.toList(), "only the final archive remains");
    }
  }

  @Test
  void standardTarListsTheEntriesInOrder() throws Exception {
    Path archive = ArchiveFixtures.write(dir.resolve("cp1.tar"),
        List.of(new ArchiveFixtures.Disk("vda", 7, 1 << 20, 3)), 1 << 18, Codec.ZSTD);
    Process p = new ProcessBuilder("tar", "tf", archive.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    List<String> names = out.lines().toList();
    assertEquals("checkpoint.xml", names.get(0));
    assertEquals("manifest.json", names.get(1));
    assertEquals("index.json", names.get(names.size() - 2));
    assertEquals("seal.json", names.get(names.size() - 1));
    assertTrue(names.subList(2, names.size() - 2).stream().allMatch(n -> n.matches("disks/vda/[0-9a-f]{16}\\.(zst|raw)")), out);
  }

  @Test
  void refusesToOverwriteAnExistingArchive() throws IOException {
    Path target = Files.writeString(dir.resolve("cp1.tar"), "precious");
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, null, List.of());
    assertThrows(FileAlreadyExistsException.class, () -> ArchiveWriter.create(target, ArchiveFixtures.CHECKPOINT, m));
    assertEquals("precious", Files.readString(target));
  }

  @Test
  void anAbandonedWriterLeavesNothing() throws IOException {
    ArchiveFixtures.Disk d = new ArchiveFixtures.Disk("vda", 3, 1 << 20, 5);
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, null, List.of(d.manifest(DiskManifest.FULL)));
    Path target = dir.resolve("cp1.tar");
    try (ArchiveWriter w = ArchiveWriter.create(target, ArchiveFixtures.CHECKPOINT, m)) {
      ExtentRecord first = d.extents.stream().filter(e -> !e.zero()).findFirst().orElseThrow();
      w.writeChunk("vda", EncodedChunk.encode(first.offset(), new byte[10], 10, Codec.ZSTD));
      // no commit: an error in the pipeline
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertEquals(List.of(), s.toList());
    }
  }

  @Test
  void chunksOutOfOrderOrMissingAreRefusedByTheWriter() throws IOException {
    ArchiveFixtures.Disk d = new ArchiveFixtures.Disk("vda", 4, 1 << 20, 5);
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, null, List.of(d.manifest(DiskManifest.FULL)));
    try (ArchiveWriter w = ArchiveWriter.create(dir.resolve("cp1.tar"), ArchiveFixtures.CHECKPOINT, m)) {
      ExtentRecord first = d.extents.stream().filter(e -> !e.zero()).findFirst().orElseThrow();
      assertThrows(IllegalArgumentException.class,
          () -> w.writeChunk("vda", EncodedChunk.encode(first.offset() + 1, new byte[1], 1, Codec.NONE)));
      assertThrows(IllegalArgumentException.class,
          () -> w.writeChunk("vdz", EncodedChunk.encode(first.offset(), new byte[1], 1, Codec.NONE)));
      assertThrows(IllegalStateException.class, w::commit);
    }
    assertFalse(Files.exists(dir.resolve("cp1.tar")));
  }

  @Test
  void incompressibleChunksAreStoredRaw() {
    byte[] raw = new byte[4096];
    new java.util.Random(5).nextBytes(raw);
    EncodedChunk c = EncodedChunk.encode(0, raw, raw.length, Codec.ZSTD);
    assertEquals(Codec.NONE, c.codec());
    assertArrayEquals(raw, c.stored());
  }
}
