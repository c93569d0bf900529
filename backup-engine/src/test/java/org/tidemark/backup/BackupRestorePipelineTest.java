package org.tidemark.backup;

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
import org.tidemark.archive.ArchiveCorruptException;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;

/**
 * The backup and restore pipeline end to end on in-memory disks whose bitmaps record writes the
 * way QEMU's do: every point of a chain of full and incremental backups restores to exactly the
 * disk as it was when backed up, for libvirt-style (all bitmaps enabled) and old-style (earlier
 * bitmaps disabled) histories.
 */
class BackupRestorePipelineTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2"), DomainDisk.of("vdb", "/images/vdb.raw", "raw")));

  @TempDir Path dir;

  static Stream<Long> seeds() {
    return LongStream.rangeClosed(1, 12).boxed();
  }

  private static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).addDisk(CheckpointDisk.untracked("vdb")).build();
  }

  private static void randomWrites(Random r, MemoryDisk d, int count) {
    for (int i = 0; i < count; i++) {
      int len = 1 + r.nextInt(3 * d.cluster);
      int off = r.nextInt(d.bytes.length - len);
      byte[] data = new byte[len];
      int kind = r.nextInt(5);
      if (kind < 3) {
        r.nextBytes(data);
      } else if (kind == 3) {
        java.util.Arrays.fill(data, (byte) 7);
      }
      d.write(off, data, kind == 4 && r.nextBoolean());
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void everyPointRestoresTheDiskAsItWas(long seed) throws IOException {
    Random r = new Random(seed);
    boolean oldStyle = seed % 2 == 0;
    int cluster = 512 << r.nextInt(5);
    MemoryDisk vda = new MemoryDisk(cluster * (50 + r.nextInt(100)) + (seed % 3 == 0 ? 1000 : 0), cluster);
    MemoryDisk vdb = new MemoryDisk(cluster * 20, cluster);
    Repository repo = Repository.at(dir.resolve("repo"));
    BackupRunner runner = new BackupRunner(repo);
    Map<String, Checkpoint> known = new HashMap<>();
    List<byte[]> vdaAt = new ArrayList<>();
    List<byte[]> vdbAt = new ArrayList<>();
    randomWrites(r, vda, 20);
    randomWrites(r, vdb, 5);
    String parent = null;
    int points = 4;
    for (int p = 0; p < points; p++) {
      String name = "cp" + p;
      if (oldStyle && parent != null) {
        vda.enabled.put(parent, false);
      }
      vda.addBitmap(name);
      Checkpoint y = checkpoint(name, parent);
      vdaAt.add(vda.bytes.clone());
      vdbAt.add(vdb.bytes.clone());
      BackupRequest req = BackupRequest.builder(y, disk -> disk.equals("vda") ? vda : vdb)
          .knownCheckpoints(known).codec(p % 2 == 0 ? Codec.ZSTD : Codec.DEFLATE).chunkSize(4 * cluster)
          .toolVersion("test").build();
      BackupResult result = runner.run(req, Progress.NONE);
      assertEquals(p == 0 ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, result.plan().disks().get(0).decision());
      assertEquals(DiskDecision.NOT_TRACKED, result.plan().disks().get(1).decision());
      assertEquals(List.of(), ArchiveVerifier.verify(result.archive()));
      known.put(name, y);
      parent = name;
      randomWrites(r, vda, 5 + r.nextInt(10));
      randomWrites(r, vdb, 2);
    }
    for (int p = 0; p < points; p++) {
      Path out = dir.resolve("restore" + p);
      RestoreResult res = new RestoreRunner(repo).run(
          RestoreRequest.builder("vm1").checkpoint("cp" + p).build(), RestoreTarget.folder(out, false), Progress.NONE);
      assertEquals(p + 1, res.chain().size(), "a full and " + p + " incrementals");
      assertArrayEquals(vdaAt.get(p), Files.readAllBytes(out.resolve("vda.raw")), "vda at cp" + p);
      assertArrayEquals(vdbAt.get(p), Files.readAllBytes(out.resolve("vdb.raw")), "vdb at cp" + p);
      assertEquals("<domain type='kvm'>\n  <name>vm1</name>\n</domain>\n", Files.readString(out.resolve("vm1.xml")));
    }
  }

  @Test
  void restoreRefusesToOverwriteAndACorruptChunkLeavesNoImage() throws IOException {
    MemoryDisk vda = new MemoryDisk(1 << 20, 65536);
    MemoryDisk vdb = new MemoryDisk(65536, 65536);
    randomWrites(new Random(3), vda, 30);
    Repository repo = Repository.at(dir.resolve("repo"));
    Checkpoint y = checkpoint("cp1", null);
    vda.addBitmap("cp1");
    BackupResult b = new BackupRunner(repo).run(BackupRequest.builder(y,
        disk -> disk.equals("vda") ? vda : vdb).exclude("vdb").codec(Codec.NONE).chunkSize(65536).toolVersion("test")
        .build(), Progress.NONE);
    assertEquals(DiskDecision.EXCLUDED, b.plan().disks().get(1).decision());
    assertThrows(FileAlreadyExistsException.class, () -> new BackupRunner(repo).run(BackupRequest.builder(y,
        disk -> vda).exclude("vdb").codec(Codec.NONE).chunkSize(65536).toolVersion("test").build(), Progress.NONE));

    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve("vda.raw"), "keep me");
    RestoreRequest req = RestoreRequest.builder("vm1").build();
    assertThrows(FileAlreadyExistsException.class, () -> new RestoreRunner(repo).run(req, RestoreTarget.folder(out, false),
        Progress.NONE));
    assertEquals("keep me", Files.readString(out.resolve("vda.raw")));

    // flip a bit inside the last chunk's data (stored raw): the restore stops and leaves nothing
    byte[] archive = Files.readAllBytes(b.archive());
    long lastChunk;
    try (var r = org.tidemark.archive.ArchiveReader.open(b.archive())) {
      var c = r.chunks().get(r.chunks().size() - 1);
      lastChunk = c.dataOffset() + c.storedLength() / 2;
    }
    archive[(int) lastChunk] ^= 1;
    Files.write(b.archive(), archive);
    Path out2 = dir.resolve("out2");
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> new RestoreRunner(repo).run(
        RestoreRequest.builder("vm1").build(), RestoreTarget.folder(out2, false), Progress.NONE));
    assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
    try (Stream<Path> s = Files.list(out2)) {
      assertFalse(s.findAny().isPresent(), "no image, not even a temporary one");
    }
  }
}
