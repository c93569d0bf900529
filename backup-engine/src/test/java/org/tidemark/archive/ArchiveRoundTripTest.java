package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

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
        ByteBuffer direct = ByteBuffer.allocateDirect(chunk + 3);
        for (ChunkRecord c : r.chunks(d.name)) {
          r.readChunk(c, buf);
          System.arraycopy(buf, 0, restored, (int) c.offset(), c.rawLength());
          r.readChunk(c, direct.clear().position(3));
          assertEquals(3 + c.rawLength(), direct.position(), "the direct buffer's position moves past the chunk");
          assertEquals(ByteBuffer.wrap(buf, 0, c.rawLength()), direct.flip().position(3), "direct read = heap read");
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
    assertEquals("index.bin", names.get(names.size() - 2));
    assertEquals("seal.json", names.get(names.size() - 1));
    assertTrue(names.subList(2, names.size() - 2).stream().allMatch(n -> n.matches("disks/vda/[0-9a-f]{16}\\.(zst|raw)")), out);
  }

  /**
   * GNU tar, not our reader, extracts every entry: the headers (a PAX one for a name past ustar's
   * 100 bytes), the data and the padding are where tar expects them.
   */
  @Test
  void gnuTarExtractsEveryEntryWithItsBytes() throws Exception {
    String longName = "disk-" + "x".repeat(115);
    // chunks of 1.1 MB: data aligned to 4 KiB by a PAX comment; the last of each disk smaller, plain
    int chunk = 1_100_000;
    List<ArchiveFixtures.Disk> disks = List.of(ArchiveFixtures.Disk.dense("vda", 11, 3 << 20),
        ArchiveFixtures.Disk.dense(longName, 12, 2_500_001));
    Path archive = ArchiveFixtures.write(dir.resolve("cp1.tar"), disks, chunk, Codec.NONE);
    Path out = Files.createDirectory(dir.resolve("x"));
    Process p = new ProcessBuilder("tar", "xf", archive.toString(), "-C", out.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), log);
    assertArrayEquals(ArchiveFixtures.CHECKPOINT, Files.readAllBytes(out.resolve("checkpoint.xml")));
    int chunks = 0;
    for (ArchiveFixtures.Disk d : disks) {
      for (ExtentRecord e : d.extents) {
        for (long off = e.offset(); !e.zero() && off < e.end(); off += chunk) {
          int len = (int) Math.min(chunk, e.end() - off);
          Path f = out.resolve("disks").resolve(d.name).resolve(String.format("%016x.raw", off));
          assertArrayEquals(java.util.Arrays.copyOfRange(d.guest, (int) off, (int) off + len), Files.readAllBytes(f),
              f.toString());
          chunks++;
        }
      }
    }
    try (Stream<Path> s = Files.walk(out.resolve("disks"))) {
      assertEquals(chunks, s.filter(Files::isRegularFile).count(), "no other chunk files");
    }
    // our reader finds the same entries from the index, PAX headers included, and tar agrees
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      r.checkTarHeaders();
      ArchiveFixtures.Disk d = disks.get(1);
      byte[] buf = new byte[chunk];
      assertEquals(0, r.chunks("vda").get(0).dataOffset() % 4096, "a large chunk's data starts on a 4 KiB boundary");
      for (ChunkRecord c : r.chunks(longName)) {
        r.readChunk(c, buf);
        assertEquals(ByteBuffer.wrap(d.guest, (int) c.offset(), c.rawLength()), ByteBuffer.wrap(buf, 0, c.rawLength()));
      }
      assertFalse(r.chunks(longName).isEmpty());
    }
  }

  /**
   * The writer stages small entries and writes them in large blocks, and sends large chunks'
   * aligned data around the page cache: the file is byte for byte the one written entirely
   * through the page cache (direct I/O off), whether the stage fills many
   * times (20 MiB of 300 kB chunks) or chunks are large (1.1 MB, aligned) or both in one archive.
   */
  @ParameterizedTest
  @ValueSource(ints = {300_000, 1_100_000})
  void stagedAndDirectWritesGiveTheBytesOfPlainWrites(int chunk) throws Exception {
    List<ArchiveFixtures.Disk> disks = List.of(ArchiveFixtures.Disk.dense("vda", 21, 20 << 20),
        ArchiveFixtures.Disk.dense("vdb", 22, 3_000_001));
    Path direct = ArchiveFixtures.write(dir.resolve("direct.tar"), disks, chunk, Codec.NONE);
    Path plain = ArchiveFixtures.write(dir.resolve("plain.tar"), disks, chunk, Codec.NONE, false);
    assertTrue(Files.size(plain) > ArchiveWriter.STAGE, "the stage fills");
    assertEquals(-1, Files.mismatch(plain, direct), "the same bytes");
    try (ArchiveReader r = ArchiveReader.open(direct)) {
      assertEquals(List.of(), ArchiveVerifier.verify(direct));
      ArchiveFixtures.Disk d = disks.get(0);
      byte[] buf = new byte[chunk];
      for (ChunkRecord c : r.chunks("vda")) {
        r.readChunk(c, buf);
        assertEquals(ByteBuffer.wrap(d.guest, (int) c.offset(), c.rawLength()), ByteBuffer.wrap(buf, 0, c.rawLength()));
      }
    }
  }

  /**
   * Format version 1 archives, as Tidemark wrote them before version 2: a JSON index ({@code
   * index.json}, every chunk's data offset in it), a seal without {@code indexBytes}, and chunks
   * either all behind plain ustar headers (written before 2026-12-03, the tar rebuilt here entry by
   * entry with Commons Compress's tar stream) or with large chunks aligned to 4 KiB. Both still
   * open, verify and read back every guest byte; the writer writes version 2.
   */
  @ParameterizedTest(name = "aligned {0}")
  @ValueSource(booleans = {false, true})
  void formatVersionOneArchivesStillOpen(boolean aligned) throws Exception {
    ArchiveFixtures.Disk d = ArchiveFixtures.Disk.dense("vda", 5, 3 << 20);
    Path v2 = ArchiveFixtures.write(dir.resolve("v2.tar"), List.of(d), 1_100_000, Codec.NONE);
    Path old = Files.write(dir.resolve("old.tar"), ArchiveFixtures.asVersionOne(v2, aligned));
    assertTrue(new String(Files.readAllBytes(old), java.nio.charset.StandardCharsets.ISO_8859_1).contains("index.json"));

    assertEquals(List.of(), ArchiveVerifier.verify(old));
    try (ArchiveReader r = ArchiveReader.open(old)) {
      assertEquals(1, r.manifest().formatVersion());
      assertEquals(aligned, r.chunks().stream().allMatch(c -> c.storedLength() < TarHeaders.ALIGNED_MIN
          || c.dataOffset() % 4096 == 0), "the layout of the chunks");
      byte[] buf = new byte[1_100_000];
      ByteBuffer direct = org.tidemark.internal.DirectWrites.allocate(2 << 20);
      for (ChunkRecord c : r.chunks()) {
        r.readChunk(c, buf);
        assertEquals(ByteBuffer.wrap(d.guest, (int) c.offset(), c.rawLength()), ByteBuffer.wrap(buf, 0, c.rawLength()));
        r.readChunk(c, direct.clear());
        assertEquals(ByteBuffer.wrap(d.guest, (int) c.offset(), c.rawLength()), direct.flip());
      }
    }
    try (ArchiveReader r = ArchiveReader.open(v2)) {
      assertEquals(2, r.manifest().formatVersion(), "created on a whole second: version 2");
      assertTrue(r.chunks().stream().anyMatch(c -> c.dataOffset() % 4096 == 0 && c.storedLength() >= TarHeaders.ALIGNED_MIN));
    }
  }

  /** Bytes after the end-of-archive records, or a partial record, are refused: not what the writer makes. */
  @Test
  void trailingBytesAreRefused() throws IOException {
    Path archive = ArchiveFixtures.write(dir.resolve("cp1.tar"),
        List.of(new ArchiveFixtures.Disk("vda", 7, 1 << 20, 3)), 1 << 18, Codec.ZSTD);
    for (int extra : new int[] {1, 512, 1024, 4096}) {
      Path p = Files.copy(archive, dir.resolve("extra" + extra + ".tar"));
      Files.write(p, new byte[extra], java.nio.file.StandardOpenOption.APPEND);
      ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> ArchiveReader.open(p).close());
      assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
    }
  }

  /** The native coders give the same bytes whether the buffers are direct or on the heap. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(Codec.class)
  void directAndHeapBuffersEncodeAlike(Codec codec) throws Exception {
    byte[] raw = new byte[200_000];
    java.util.Random r = new java.util.Random(codec.ordinal());
    for (int i = 0; i < raw.length; i += 1000) {
      java.util.Arrays.fill(raw, i, i + 500, (byte) r.nextInt(256)); // half runs, half noise
      for (int k = i + 500; k < i + 1000; k++) {
        raw[k] = (byte) r.nextInt(256);
      }
    }
    EncodedChunk heap = EncodedChunk.encode(7, raw, raw.length, codec);
    ByteBuffer directRaw = ByteBuffer.allocateDirect(raw.length).put(raw).flip();
    EncodedChunk direct = EncodedChunk.encode(7, directRaw, codec, ByteBuffer.allocateDirect(raw.length));
    assertEquals(heap.codec(), direct.codec());
    assertEquals(heap.crc32c(), direct.crc32c());
    assertEquals(heap.stored(), direct.stored());
    assertEquals(codec == Codec.NONE, heap.storedLength() == raw.length, "compressible data is compressed");
    ByteBuffer back = ByteBuffer.allocateDirect(raw.length);
    heap.codec().decode(direct.stored(), back, raw.length);
    assertEquals(ByteBuffer.wrap(raw), back);
  }

  @Test
  void refusesToOverwriteAnExistingArchive() throws IOException {
    Path target = Files.writeString(dir.resolve("cp1.tar"), "precious");
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, Optional.empty(), List.of());
    assertThrows(FileAlreadyExistsException.class, () -> ArchiveWriter.create(target, ArchiveFixtures.CHECKPOINT, m));
    assertEquals("precious", Files.readString(target));
  }

  @Test
  void anAbandonedWriterLeavesNothing() throws IOException {
    ArchiveFixtures.Disk d = new ArchiveFixtures.Disk("vda", 3, 1 << 20, 5);
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, Optional.empty(), List.of(d.manifest(DiskManifest.FULL)));
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
    Manifest m = Manifest.of("test", "vm1", "cp1", 0, Optional.empty(), List.of(d.manifest(DiskManifest.FULL)));
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
    assertEquals(java.nio.ByteBuffer.wrap(raw), c.stored());
  }
}
