package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded property test: chains of real archives (a full backup and random incrementals) written
 * to a repository, resolved and planned, restore exactly what a naive byte-array model of the
 * same writes holds at every point of the chain.
 */
class ChainRestorePropertyTest {
  @TempDir Path dir;

  static Stream<Long> seeds() {
    return LongStream.rangeClosed(1, 25).boxed();
  }

  /** Random sorted, disjoint extents over [0, size), each data or zero, covering it when full. */
  private static List<ExtentRecord> randomExtents(Random r, int size, boolean full) {
    List<ExtentRecord> out = new ArrayList<>();
    int pos = 0;
    while (pos < size) {
      int len = Math.min(size - pos, 1 + r.nextInt(size / 6 + 1));
      boolean skip = !full && r.nextInt(3) == 0;
      if (!skip) {
        out.add(new ExtentRecord(pos, len, r.nextInt(4) == 0));
      }
      pos += len;
    }
    return out;
  }

  /**
   * Writes the archive of checkpoint {@code name}: the extents' bytes as the model holds them now,
   * cut into chunks of {@code chunk} bytes, each stored with zstd or as it is. Full when {@code
   * parent} is null.
   */
  private static ParentRef writeArchive(Repository repo, String name, long created, ParentRef parent,
      List<ExtentRecord> extents, byte[] model, int chunk, Random r) throws IOException {
    boolean full = parent == null;
    DiskManifest dm = new DiskManifest("vda", full ? DiskManifest.FULL : DiskManifest.INCREMENTAL,
        full ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, "", model.length, 512, extents);
    Manifest m = Manifest.of("test", "vm", name, created, Optional.ofNullable(parent), List.of(dm));
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", name), new byte[] {'x'}, m)) {
      for (ExtentRecord e : extents) {
        for (long off = e.offset(); !e.zero() && off < e.end(); off += chunk) {
          int len = (int) Math.min(chunk, e.end() - off);
          byte[] raw = Arrays.copyOfRange(model, (int) off, (int) off + len);
          w.writeChunk("vda", EncodedChunk.encode(off, raw, len, r.nextBoolean() ? Codec.ZSTD : Codec.NONE));
        }
      }
      return new ParentRef(name, w.commit().getFileName().toString());
    }
  }

  /**
   * Nested cuts: the full backup's one chunk [0, 64K) is cut by cp1's chunk [16K, 48K), itself cut
   * by cp2's [24K, 32K). Written front to back, at 24K both older chunks are held. With room for
   * one, the plan lets go of the full backup's chunk (needed again at 48K, after cp1's at 32K) and
   * reads it a second time there; with room for two, each chunk is read once.
   */
  @Test
  void nestedCutsReadTheChunkNeededFarthestAheadAgain() throws IOException {
    Random r = new Random(7);
    int k = 1024;
    Repository repo = Repository.at(dir);
    byte[] model = new byte[64 * k];
    List<List<ExtentRecord>> layers = List.of(List.of(new ExtentRecord(0, 64 * k, false)),
        List.of(new ExtentRecord(16 * k, 32 * k, false)), List.of(new ExtentRecord(24 * k, 8 * k, false)));
    ParentRef parent = null;
    for (int p = 0; p < layers.size(); p++) {
      for (ExtentRecord e : layers.get(p)) {
        byte[] data = new byte[(int) e.length()];
        r.nextBytes(data);
        System.arraycopy(data, 0, model, (int) e.offset(), data.length);
      }
      parent = writeArchive(repo, "cp" + p, 1000 + p, parent, layers.get(p), model, 64 * k, r);
    }
    List<StoredBackup> chain = repo.chain("vm", Optional.empty());
    assertArrayEquals(model, restore(chain));
    List<RestorePlanner.Layer> planned = new ArrayList<>();
    for (StoredBackup b : chain) {
      try (ArchiveReader rd = ArchiveReader.open(b.path())) {
        planned.add(new RestorePlanner.Layer(b.path(), rd.manifest(), rd.chunks()));
      }
    }
    RestorePlanner.DiskPlan plan = RestorePlanner.plan("vda", planned);
    // source 0 is the newest (cp2), 2 the full backup; each read as "source:first piece+bytes..."
    assertEquals(List.of("2:0+16384", "1:16384+8192,32768+16384", "0:24576+8192", "2:49152+16384"),
        described(plan.reads(1)));
    assertEquals(List.of("2:0+16384,49152+16384", "1:16384+8192,32768+16384", "0:24576+8192"),
        described(plan.reads(2)));
    assertEquals(described(plan.reads(2)), described(plan.reads()));
  }

  private static List<String> described(List<RestorePlanner.ChunkRead> reads) {
    return reads.stream().map(rd -> rd.source() + ":" + String.join(",",
        rd.pieces().stream().map(p -> p.offset() + "+" + p.length()).toList())).toList();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyPointOfTheChainRestoresTheModel(long seed) throws IOException {
    Random r = new Random(seed);
    int size = 64 * 1024 + r.nextInt(256 * 1024);
    int chunk = 512 << r.nextInt(6);
    Repository repo = Repository.at(dir);
    byte[] model = new byte[size];
    List<byte[]> expectedAt = new ArrayList<>();
    ParentRef parent = null;
    int points = 1 + r.nextInt(5);
    for (int p = 0; p < points; p++) {
      boolean full = p == 0;
      List<ExtentRecord> extents = randomExtents(r, size, full);
      for (ExtentRecord e : extents) {
        byte[] data = new byte[(int) e.length()];
        if (!e.zero()) {
          r.nextBytes(data);
        }
        System.arraycopy(data, 0, model, (int) e.offset(), data.length);
      }
      expectedAt.add(model.clone());
      parent = writeArchive(repo, "cp" + p, 1000 + p, parent, extents, model, chunk, r);
    }
    for (int p = 0; p < points; p++) {
      List<StoredBackup> chain = repo.chain("vm", Optional.of("cp" + p));
      assertEquals(p + 1, chain.size());
      assertArrayEquals(expectedAt.get(p), restore(chain), "point cp" + p);
    }
    assertArrayEquals(model, restore(repo.chain("vm", Optional.empty())), "newest");
  }

  /**
   * The reads come in the order the image first needs them (by the guest offset of each chunk's
   * first piece), and that order still reads each archive forwards.
   */
  private static void assertReadOrder(List<RestorePlanner.ChunkRead> reads) {
    long firstNeed = -1;
    Map<Integer, Long> lastDataOffset = new HashMap<>();
    for (RestorePlanner.ChunkRead read : reads) {
      long first = read.pieces().get(0).offset();
      assertTrue(first > firstNeed, "reads in order of first need: " + first + " after " + firstNeed);
      firstNeed = first;
      Long previous = lastDataOffset.put(read.source(), read.chunk().dataOffset());
      assertTrue(previous == null || previous < read.chunk().dataOffset(),
          "archive " + read.source() + " read forwards: " + read.chunk().dataOffset() + " after " + previous);
    }
  }

  /** Writes the image from the reads (each chunk read as often as it is listed); checks every data piece is in one read. */
  private static byte[] execute(RestorePlanner.DiskPlan plan, List<RestorePlanner.ChunkRead> reads,
      List<ArchiveReader> readers) throws IOException {
    byte[] out = new byte[(int) plan.virtualSize()];
    byte[] buf = new byte[ArchiveWriter.MAX_CHUNK];
    long fromChunks = 0;
    for (RestorePlanner.ChunkRead read : reads) {
      readers.get(read.source()).readChunk(read.chunk(), buf);
      for (RestorePiece piece : read.pieces()) {
        System.arraycopy(buf, (int) (piece.offset() - read.chunk().offset()), out, (int) piece.offset(), (int) piece.length());
        fromChunks += piece.length();
      }
    }
    assertEquals(plan.dataBytes(), fromChunks, "every data piece is in exactly one read");
    return out;
  }

  /** The most reads a writer going front to back holds at once, each from its first piece to its last. */
  private static int maxHeldWritingFrontToBack(List<RestorePlanner.ChunkRead> reads) {
    TreeMap<Long, Integer> events = new TreeMap<>(); // guest offset -> change in reads held
    for (RestorePlanner.ChunkRead read : reads) {
      List<RestorePiece> ps = read.pieces();
      events.merge(ps.get(0).offset(), 1, Integer::sum);
      events.merge(ps.get(ps.size() - 1).end(), -1, Integer::sum);
    }
    int held = 0;
    int most = 0;
    for (int change : events.values()) {
      held += change;
      most = Math.max(most, held);
    }
    return most;
  }

  /**
   * Restores disk vda by executing the plan, reading each needed chunk once; the same with at most
   * one and at most two chunks held, where chunks are read again, must give the same bytes.
   */
  static byte[] restore(List<StoredBackup> chain) throws IOException {
    List<ArchiveReader> readers = new ArrayList<>();
    try {
      List<RestorePlanner.Layer> layers = new ArrayList<>();
      for (StoredBackup b : chain) {
        ArchiveReader rd = ArchiveReader.open(b.path());
        readers.add(rd);
        layers.add(new RestorePlanner.Layer(b.path(), rd.manifest(), rd.chunks()));
      }
      RestorePlanner.DiskPlan plan = RestorePlanner.plan("vda", layers);
      long pos = 0;
      for (RestorePiece piece : plan.pieces()) {
        assertEquals(pos, piece.offset(), "pieces tile the disk");
        pos = piece.end();
      }
      assertEquals(plan.virtualSize(), pos);
      List<RestorePlanner.ChunkRead> once = plan.reads();
      assertEquals(once.size(), once.stream().map(rd -> rd.source() + "@" + rd.chunk().dataOffset()).distinct().count(),
          "without a limit, each chunk is read once");
      assertReadOrder(once);
      byte[] out = execute(plan, once, readers);
      for (int maxHeld : new int[] {1, 2}) {
        List<RestorePlanner.ChunkRead> limited = plan.reads(maxHeld);
        // held between first and last piece: at most maxHeld, and the one being written
        assertTrue(maxHeldWritingFrontToBack(limited) <= maxHeld + 1, "at most " + maxHeld + " chunks held");
        assertArrayEquals(out, execute(plan, limited, readers), "restored with at most " + maxHeld + " chunks held");
      }
      return out;
    } finally {
      for (ArchiveReader rd : readers) {
        rd.close();
      }
    }
  }

  @Test
  void backupsOfTheSameSecondAreOrderedByTheirChain() throws IOException {
    Repository repo = Repository.at(dir);
    List<ExtentRecord> all = List.of(new ExtentRecord(0, 4096, true));
    DiskManifest full = new DiskManifest("vda", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, "", 4096, 512, all);
    DiskManifest inc = new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "", 4096, 512, all);
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", "zz"), new byte[] {'x'},
        Manifest.of("t", "vm", "zz", 5, Optional.empty(), List.of(full)))) {
      w.commit();
    }
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", "aa"), new byte[] {'x'},
        Manifest.of("t", "vm", "aa", 5, Optional.of(new ParentRef("zz", "zz.tar")), List.of(inc)))) {
      w.commit();
    }
    assertEquals(List.of("zz", "aa"), repo.scan("vm").backups().stream().map(StoredBackup::checkpoint).toList());
    assertEquals("aa", repo.chain("vm", Optional.empty()).get(0).checkpoint(), "the newest is the increment");
  }

  @Test
  void aMissingParentBreaksTheChainWithItsName() throws IOException {
    Repository repo = Repository.at(dir);
    List<ExtentRecord> all = List.of(new ExtentRecord(0, 4096, true));
    DiskManifest inc = new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "", 4096, 512, all);
    Manifest m = Manifest.of("t", "vm", "cp2", 2, Optional.of(new ParentRef("cp1", "cp1.tar")), List.of(inc));
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", "cp2"), new byte[] {'x'}, m)) {
      w.commit();
    }
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> repo.chain("vm", Optional.empty()));
    assertEquals(true, e.getMessage().contains("cp1.tar"), e.getMessage());
    assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> repo.newArchivePath("vm", "cp2"));
  }

  @Test
  void leftoversOfAKilledWriterAreNotListedAndAreRemoved() throws IOException {
    Repository repo = Repository.at(dir);
    Path domain = Files.createDirectories(dir.resolve("vm"));
    Path leftover = Files.writeString(domain.resolve(".cp1.tar.tmp-1234abcd"), "half an archive");
    assertEquals(List.of(), repo.scan("vm").backups());
    assertEquals(List.of(), repo.scan("vm").unreadable());
    assertEquals(List.of(leftover), repo.removeLeftovers("vm"));
    assertEquals(false, Files.exists(leftover));
  }
}
