package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * I/O faults on what the engine reads: an EIO from the source disk at a seeded offset, short reads,
 * a qcow2 source truncated after it was opened, an archive truncated under a running restore. Each
 * gives a typed error, and leaves the repository and the restore folder as they were: the earlier
 * backup still verifies and restores, no archive or image (not even a temporary one) is left.
 */
class FaultInjectionTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2")));
  private static final int CLUSTER = 4096;

  @TempDir Path dir;

  /** A disk that fails with EIO when a read touches {@code failAt}, or returns short reads. */
  private static final class FaultyDisk extends ForwardingDisk {
    final long failAt;
    final boolean shortReads;
    int reads;

    FaultyDisk(MemoryDisk disk, long failAt, boolean shortReads) {
      super(disk);
      this.failAt = failAt;
      this.shortReads = shortReads;
    }

    @Override
    public String description() {
      return "faulty " + disk.description();
    }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
      reads++;
      if (failAt >= offset && failAt < offset + dst.remaining()) {
        throw new IOException("vda.qcow2: Input/output error (injected at guest offset " + failAt + ")");
      }
      if (shortReads) {
        // a source that delivers in pieces: the contract is still "fully"
        while (dst.hasRemaining()) {
          int n = Math.min(dst.remaining(), 1 + (int) ((offset * 31 + reads) % 1000));
          ByteBuffer part = dst.slice();
          part.limit(n);
          disk.readFully(offset, part);
          dst.position(dst.position() + n);
          offset += n;
        }
        return;
      }
      disk.readFully(offset, dst);
    }
  }

  private static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).build();
  }

  private static BackupRequest request(Checkpoint y, Map<String, Checkpoint> known, DiskSource source) {
    return BackupRequest.builder(y, disk -> source).knownCheckpoints(known).chunkSize(4 * CLUSTER)
        .toolVersion("test").build();
  }

  private static MemoryDisk randomDisk(Random r) {
    MemoryDisk d = new MemoryDisk(CLUSTER * 200, CLUSTER);
    for (int i = 0; i < 40; i++) {
      byte[] data = new byte[1 + r.nextInt(3 * CLUSTER)];
      r.nextBytes(data);
      d.write(r.nextInt(d.bytes.length - data.length), data, false);
    }
    return d;
  }

  private static List<String> names(Path folder) throws IOException {
    if (!Files.isDirectory(folder)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static Stream<Long> seeds() {
    return LongStream.rangeClosed(1, 8).boxed();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void anEioFromTheSourceFailsTheBackupAndLeavesTheRepositoryAsItWas(long seed) throws Exception {
    Random r = new Random(seed);
    MemoryDisk vda = randomDisk(r);
    Repository repo = Repository.at(dir.resolve("repo"));
    vda.addBitmap("cp1");
    Checkpoint cp1 = checkpoint("cp1", null);
    byte[] atCp1 = vda.bytes.clone();
    new BackupRunner(repo).run(request(cp1, Map.of(), vda), Progress.NONE);
    List<String> before = names(dir.resolve("repo/vm1"));

    byte[] data = new byte[8 * CLUSTER];
    r.nextBytes(data);
    vda.write(r.nextInt(vda.bytes.length - data.length), data, false);
    vda.addBitmap("cp2");
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    // a guest offset the incremental reads: inside a dirty extent
    Extent dirty = vda.dirtyExtents(List.of("cp1")).get(0);
    long failAt = dirty.offset() + r.nextInt((int) dirty.length());
    FaultyDisk faulty = new FaultyDisk(vda, failAt, false);
    IOException e = assertThrows(IOException.class, () ->
        new BackupRunner(repo).run(request(cp2, Map.of("cp1", cp1), faulty), Progress.NONE));
    assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
    assertEquals(before, names(dir.resolve("repo/vm1")), "no archive, no temporary file");
    assertEquals(List.of(), ArchiveVerifier.verify(dir.resolve("repo/vm1/cp1.tar")));
    Path out = dir.resolve("out");
    new RestoreRunner(repo).run(RestoreRequest.builder("vm1").checkpoint("cp1").build(), RestoreTarget.folder(out, false),
        Progress.NONE);
    assertArrayEquals(atCp1, Files.readAllBytes(out.resolve("vda.raw")));
    // and the next backup, the fault gone, succeeds incrementally
    BackupResult next = new BackupRunner(repo).run(request(cp2, Map.of("cp1", cp1), vda), Progress.NONE);
    assertEquals(DiskDecision.INCREMENTAL, next.plan().disks().get(0).decision());
  }

  @Test
  void shortReadsFromTheSourceStillGiveAnExactBackup() throws Exception {
    MemoryDisk vda = randomDisk(new Random(9));
    vda.addBitmap("cp1");
    Repository repo = Repository.at(dir.resolve("repo"));
    new BackupRunner(repo).run(request(checkpoint("cp1", null), Map.of(), new FaultyDisk(vda, -1, true)),
        Progress.NONE);
    Path out = dir.resolve("out");
    new RestoreRunner(repo).run(RestoreRequest.builder("vm1").build(), RestoreTarget.folder(out, false), Progress.NONE);
    assertArrayEquals(vda.bytes, Files.readAllBytes(out.resolve("vda.raw")));
  }

  @Test
  void aQcow2SourceTruncatedAfterOpenGivesATypedErrorAndNoArchive() throws Exception {
    Path img = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "16M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 0x5a 0 8M", img.toString());
    Repository repo = Repository.at(dir.resolve("repo"));
    try (Qcow2Image q = Qcow2Image.open(img)) {
      // another process cuts the image while the backup has it open
      try (FileChannel ch = FileChannel.open(img, StandardOpenOption.WRITE)) {
        ch.truncate(Files.size(img) / 2);
      }
      IOException e = assertThrows(IOException.class, () -> new BackupRunner(repo).run(BackupRequest.builder(
          checkpoint("cp1", null), disk -> q).chunkSize(1 << 20).toolVersion("test").build(), Progress.NONE));
      assertTrue(e.getMessage().contains(img.toString()), "names the image: " + e.getMessage());
      assertTrue(e.getMessage().contains("end"), "says the file ends early: " + e.getMessage());
    }
    assertEquals(List.of(org.tidemark.archive.RepositoryLock.FILE_NAME), names(dir.resolve("repo/vm1")),
        "no archive, no temporary file (the domain's lock file stays)");
  }

  @Test
  void anArchiveTruncatedUnderARestoreGivesATypedErrorAndNoImage() throws Exception {
    MemoryDisk vda = randomDisk(new Random(10));
    vda.addBitmap("cp1");
    Repository repo = Repository.at(dir.resolve("repo"));
    BackupResult b = new BackupRunner(repo).run(request(checkpoint("cp1", null), Map.of(), vda), Progress.NONE);
    long cut;
    try (ArchiveReader r = ArchiveReader.open(b.archive())) {
      cut = r.chunks().get(r.chunks().size() / 2).dataOffset();
      try (FileChannel ch = FileChannel.open(b.archive(), StandardOpenOption.WRITE)) {
        ch.truncate(cut);
      }
      byte[] buf = new byte[4 * CLUSTER];
      ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class,
          () -> r.readChunk(r.chunks().get(r.chunks().size() - 1), buf));
      assertTrue(e.getMessage().contains(b.archive().toString()) && e.getMessage().contains("ends"), e.getMessage());
    }
    // a restore now finds it incomplete, says which archive and why, and writes nothing
    Path out = dir.resolve("out");
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> new RestoreRunner(repo).run(
        RestoreRequest.builder("vm1").build(), RestoreTarget.folder(out, false), Progress.NONE));
    assertTrue(e.getMessage().contains("cp1.tar"), e.getMessage());
    assertEquals(List.of(), names(out));
    assertTrue(ArchiveVerifier.verify(b.archive()).size() > 0, "verify reports it");
  }
}
