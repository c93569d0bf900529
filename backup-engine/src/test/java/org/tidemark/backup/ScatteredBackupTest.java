package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveLimitException;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Repository;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * Sources whose extents are scattered past what an archive lists (issue 20): 400,000 isolated
 * allocated clusters of 512 bytes (a full backup), then 400,000 isolated dirty granules (every
 * other one, an incremental backup). Before the extent bound, the first backup exited 0 and wrote
 * an archive whose index.json was past the reader's 64 MiB (verify and restore refused it), and
 * with a 256 MiB heap both backups died of an {@code OutOfMemoryError}. Now each archive lists at
 * most {@link ArchiveLimits#MAX_EXTENTS} extents, verifies, and restores byte for byte to the
 * source as it was, all in a child JVM with {@code -Xmx256m}.
 */
class ScatteredBackupTest {
  static final int CLUSTER = 512;
  static final long CLUSTERS = 800_000; // 400,000 even (allocated), 400,000 odd (dirty later)
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2")));

  @TempDir Path dir;

  static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).build();
  }

  static byte[] xml(Checkpoint c) {
    return ("<domaincheckpoint>\n  <name>" + c.name() + "</name>\n  <domain type='kvm'>\n    <name>vm1</name>\n"
        + "  </domain>\n</domaincheckpoint>\n").getBytes(StandardCharsets.UTF_8);
  }

  static BackupRequest request(Checkpoint y, Map<String, Checkpoint> known, ScatteredDisk disk) {
    return BackupRequest.builder(y, name -> disk).knownCheckpoints(known).toolVersion("test").build();
  }

  /**
   * Run in the child JVM: the full and the incremental backup of the scattered disk into {@code
   * args[0]}, each verified and restored and compared with the source, byte for byte. Exits 0 and
   * prints "scattered: ok" when all holds.
   */
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    ScatteredDisk disk = new ScatteredDisk(CLUSTERS * CLUSTER, CLUSTER);
    Repository repo = Repository.at(root.resolve("repo"));
    BackupRunner runner = new BackupRunner(repo);
    Checkpoint cp1 = checkpoint("cp1", null);
    BackupResult full = runner.run(request(cp1, Map.of(), disk), Progress.NONE);
    check(full, DiskDecision.NO_BASE_BACKUP);
    disk.generation = 2;
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    BackupResult inc = runner.run(request(cp2, Map.of("cp1", cp1), disk), Progress.NONE);
    check(inc, DiskDecision.INCREMENTAL);
    for (int g = 1; g <= 2; g++) {
      Path out = root.resolve("restore" + g);
      new RestoreRunner(repo).run(RestoreRequest.builder("vm1").checkpoint("cp" + g).build(), RestoreTarget.folder(out, false),
          Progress.NONE);
      compare(disk, g, out.resolve("vda.raw"));
      Files.delete(out.resolve("vda.raw"));
    }
    System.out.println("scattered: ok");
  }

  private static void check(BackupResult result, DiskDecision decision) throws IOException {
    if (result.plan().disks().get(0).decision() != decision) {
      throw new AssertionError("decision " + result.plan().disks().get(0).decision() + ", expected " + decision);
    }
    var findings = ArchiveVerifier.verify(result.archive());
    if (!findings.isEmpty()) {
      throw new AssertionError("verify: " + findings);
    }
    try (ArchiveReader r = ArchiveReader.open(result.archive())) {
      DiskManifest d = r.manifest().disks().get(0);
      if (d.extents().size() > ArchiveLimits.MAX_EXTENTS || r.chunks().size() > ArchiveLimits.MAX_CHUNKS) {
        throw new AssertionError(d.extents().size() + " extents, " + r.chunks().size() + " chunks");
      }
      System.out.println(result.archive().getFileName() + ": " + d.extents().size() + " extents, "
          + r.chunks().size() + " chunks, " + Files.size(result.archive()) + " bytes");
    }
  }

  /** The restored image is the source at generation {@code g}, byte for byte. */
  private static void compare(ScatteredDisk disk, int g, Path image) throws IOException {
    if (Files.size(image) != disk.size) {
      throw new AssertionError(image + " has " + Files.size(image) + " bytes, expected " + disk.size);
    }
    byte[] want = new byte[1 << 20];
    ByteBuffer got = ByteBuffer.allocate(want.length);
    try (FileChannel ch = FileChannel.open(image)) {
      for (long off = 0; off < disk.size; off += want.length) {
        int n = (int) Math.min(want.length, disk.size - off);
        disk.bytes(g, off, want, n);
        got.clear().limit(n);
        while (got.hasRemaining() && ch.read(got, off + got.position()) > 0) {
          // read on
        }
        int at = Arrays.mismatch(want, 0, n, got.array(), 0, n);
        if (at >= 0) {
          throw new AssertionError("cp" + g + ": restored byte " + (off + at) + " differs from the source");
        }
      }
    }
  }

  @Test
  void scatteredClustersBackUpVerifyAndRestoreInAQuarterGigabyteHeap() throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"),
        ScatteredBackupTest.class.getName(), dir.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.println(out);
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("scattered: ok"), out);
  }

  /** A 1 PiB disk: refused while planning, naming the disk, its size and the largest; nothing written. */
  @Test
  void aDiskPastTheLargestSupportedIsRefusedBeforeAnythingIsWritten() throws IOException {
    ScatteredDisk huge = new ScatteredDisk(1L << 50, 1 << 16) {
      @Override
      public List<org.tidemark.disk.Extent> allocation() {
        throw new AssertionError("the allocation map of a disk refused is never read");
      }
    };
    Repository repo = Repository.at(dir.resolve("repo"));
    Checkpoint cp1 = checkpoint("cp1", null);
    ArchiveLimitException e = assertThrows(ArchiveLimitException.class,
        () -> new BackupRunner(repo).run(request(cp1, Map.of(), huge), Progress.NONE));
    assertTrue(e.getMessage().contains("disk 'vda' has 1125899906842624 bytes (1024.0 TiB)"), e.getMessage());
    assertTrue(e.getMessage().contains("at most " + ArchiveLimits.MAX_DISK_SIZE + " bytes (32 TiB)"), e.getMessage());
    try (Stream<Path> s = Files.walk(dir)) {
      assertEquals(List.of(), s.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals(org.tidemark.archive.RepositoryLock.FILE_NAME)).toList(),
          "nothing written (the domain's lock file aside)");
    }
  }
}
