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
      String name = "cp" + p;
      DiskManifest dm = new DiskManifest("vda", full ? DiskManifest.FULL : DiskManifest.INCREMENTAL,
          full ? "no-base-backup" : "incremental", "", size, 512, extents);
      Manifest m = Manifest.of("test", "vm", name, 1000 + p, parent, List.of(dm));
      try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", name), new byte[] {'x'}, m)) {
        for (ExtentRecord e : extents) {
          for (long off = e.offset(); !e.zero() && off < e.end(); off += chunk) {
            int len = (int) Math.min(chunk, e.end() - off);
            byte[] raw = Arrays.copyOfRange(model, (int) off, (int) off + len);
            w.writeChunk("vda", EncodedChunk.encode(off, raw, len, r.nextBoolean() ? Codec.ZSTD : Codec.NONE));
          }
        }
        parent = new ParentRef(name, w.commit().getFileName().toString());
      }
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
  private static void assertReadOrder(RestorePlanner.DiskPlan plan) {
    long firstNeed = -1;
    Map<Integer, Long> lastDataOffset = new HashMap<>();
    for (RestorePlanner.ChunkRead read : plan.reads()) {
      long first = read.pieces().get(0).offset();
      assertTrue(first > firstNeed, "reads in order of first need: " + first + " after " + firstNeed);
      firstNeed = first;
      Long previous = lastDataOffset.put(read.source(), read.chunk().dataOffset());
      assertTrue(previous == null || previous < read.chunk().dataOffset(),
          "archive " + read.source() + " read forwards: " + read.chunk().dataOffset() + " after " + previous);
    }
  }

  /** Restores disk vda by executing the plan, reading each needed chunk once. */
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
      byte[] out = new byte[(int) plan.virtualSize()];
      long pos = 0;
      for (RestorePiece piece : plan.pieces()) {
        assertEquals(pos, piece.offset(), "pieces tile the disk");
        pos = piece.end();
      }
      byte[] buf = new byte[ArchiveWriter.MAX_CHUNK];
      long fromChunks = 0;
      for (RestorePlanner.ChunkRead read : plan.reads()) {
        readers.get(read.source()).readChunk(read.chunk(), buf);
        for (RestorePiece piece : read.pieces()) {
          System.arraycopy(buf, (int) (piece.offset() - read.chunk().offset()), out, (int) piece.offset(), (int) piece.length());
          fromChunks += piece.length();
        }
      }
      assertEquals(plan.dataBytes(), fromChunks, "every data piece is in exactly one read");
      assertEquals(plan.reads().size(), plan.reads().stream().map(rd -> rd.source() + "@" + rd.chunk().dataOffset()).distinct().count());
      assertEquals(plan.virtualSize(), pos);
      assertReadOrder(plan);
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
    DiskManifest full = new DiskManifest("vda", DiskManifest.FULL, "no-base-backup", "", 4096, 512, all);
    DiskManifest inc = new DiskManifest("vda", DiskManifest.INCREMENTAL, "incremental", "", 4096, 512, all);
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", "zz"), new byte[] {'x'},
        Manifest.of("t", "vm", "zz", 5, null, List.of(full)))) {
      w.commit();
    }
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath("vm", "aa"), new byte[] {'x'},
        Manifest.of("t", "vm", "aa", 5, new ParentRef("zz", "zz.tar"), List.of(inc)))) {
      w.commit();
    }
    assertEquals(List.of("zz", "aa"), repo.scan("vm").backups().stream().map(StoredBackup::checkpoint).toList());
    assertEquals("aa", repo.chain("vm", Optional.empty()).get(0).checkpoint(), "the newest is the increment");
  }

  @Test
  void aMissingParentBreaksTheChainWithItsName() throws IOException {
    Repository repo = Repository.at(dir);
    List<ExtentRecord> all = List.of(new ExtentRecord(0, 4096, true));
    DiskManifest inc = new DiskManifest("vda", DiskManifest.INCREMENTAL, "incremental", "", 4096, 512, all);
    Manifest m = Manifest.of("t", "vm", "cp2", 2, new ParentRef("cp1", "cp1.tar"), List.of(inc));
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
