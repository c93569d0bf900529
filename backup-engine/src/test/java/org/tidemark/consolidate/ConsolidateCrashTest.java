package org.tidemark.consolidate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Chains;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.StoredBackup;
import org.tidemark.backup.Progress;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * {@code kill -9} of a consolidation at seeded moments: a child JVM consolidates cp4 of the real
 * chain ({@link QemuChain}; cp7's chain runs through it) and is SIGKILLed, half of the time anywhere
 * in its run (or a little past its usual end), half while it writes the new archive. After every
 * kill: all seven points are still there; cp4's archive is either its old incremental archive, byte for byte, or a full one that
 * verifies; nothing else in the folder looks like an archive (a leftover is a hidden temporary
 * file); every archive verifies and every chain resolves; cp4 and cp7 restore identical to QEMU's
 * copies ({@code qemu-img compare}); and the next run removes the leftover and finishes.
 */
class ConsolidateCrashTest {
  private static final int KILLS = 8;

  @TempDir Path dir;

  /** Run in the child JVM: consolidates checkpoint {@code args[1]} of domain vm in repository {@code args[0]}. */
  public static void main(String[] args) throws Exception {
    new Consolidator(Repository.at(Path.of(args[0]))).run(
        ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of(args[1]), "test"), Progress.NONE);
    System.out.println("consolidated");
  }

  private Process start(Repository repo) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", System.getProperty("java.class.path"),
        ConsolidateCrashTest.class.getName(), repo.root().toString(), "cp4");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
  }

  private static List<String> names(Path folder) throws Exception {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static boolean writing(Path folder) throws Exception {
    return names(folder).stream().anyMatch(n -> n.startsWith(".cp4.tar.tmp-"));
  }

  @Test
  void killedAtSeededMomentsAConsolidationLeavesTheOldArchiveOrTheNewFullOneAndTheNextRunFinishes() throws Exception {
    QemuChain chain = QemuChain.build(dir, 31, 48, 16);
    Repository repo = chain.repo;
    Path folder = repo.domainDir(QemuChain.DOMAIN);
    Path original = dir.resolve("cp4-original.tar");
    Files.copy(chain.archive(4), original);
    byte[] old = Files.readAllBytes(original);

    // an uninterrupted run, timed: the whole run and its write phase (a temporary file beside cp4.tar)
    long t0 = System.nanoTime();
    Process p = start(repo);
    long writeStart = -1;
    long writeEnd = -1;
    while (p.isAlive()) {
      boolean w = writing(folder);
      if (w && writeStart < 0) {
        writeStart = System.nanoTime();
      } else if (!w && writeStart >= 0 && writeEnd < 0) {
        writeEnd = System.nanoTime();
      }
      Thread.sleep(1);
    }
    assertEquals(0, p.waitFor(), Files.readString(dir.resolve("child.log")));
    long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    long writeMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis((writeEnd < 0 ? System.nanoTime() : writeEnd)
        - (writeStart < 0 ? t0 : writeStart)));
    Files.copy(original, chain.archive(4), StandardCopyOption.REPLACE_EXISTING);

    Random seeded = new Random(20261205);
    int midWrite = 0;
    int replaced = 0;
    for (int k = 0; k < KILLS; k++) {
      boolean inWrite = k % 2 == 1;
      // even kills: anywhere from the start to a little past the usual end (then the run may have finished)
      long delay = (long) (seeded.nextDouble() * (inWrite ? 0.9 * writeMs : 1.2 * runMs));
      Process child = start(repo);
      if (inWrite) {
        while (child.isAlive() && !writing(folder)) {
          Thread.sleep(1);
        }
      }
      Thread.sleep(delay);
      child.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
      assertTrue(child.waitFor(60, TimeUnit.SECONDS));
      String at = "kill " + k + ", " + delay + " ms after " + (inWrite ? "the write began" : "the start")
          + " (a run takes " + runMs + " ms, its write " + writeMs + " ms): ";

      List<String> left = names(folder);
      midWrite += writing(folder) ? 1 : 0;
      List<String> visible = left.stream().filter(n -> !n.startsWith(".")).toList();
      assertEquals(List.of("cp1.tar", "cp2.tar", "cp3.tar", "cp4.tar", "cp5.tar", "cp6.tar", "cp7.tar"), visible,
          at + "every point is there and nothing else looks like an archive: " + left);
      assertTrue(left.stream().filter(n -> n.startsWith(".")).allMatch(n -> n.equals(RepositoryLock.FILE_NAME)
          || n.startsWith(".cp4.tar.tmp-")), at + "leftovers are hidden temporary files: " + left);
      byte[] now = Files.readAllBytes(chain.archive(4));
      if (!Arrays.equals(old, now)) {
        replaced++;
        try (ArchiveReader r = ArchiveReader.open(chain.archive(4))) {
          assertEquals(Optional.empty(), r.manifest().parent(), at + "a changed cp4 is the full one");
        }
      }
      Chains chains = repo.chains(QemuChain.DOMAIN);
      assertEquals(List.of(), chains.scan().unreadable(), at);
      assertEquals(List.of(), chains.linkFindings(), at);
      for (StoredBackup b : chains.scan().backups()) {
        assertEquals(List.of(), ArchiveVerifier.verify(b.path()), at + b.id());
        chains.chain(Optional.of(b.checkpoint()));
      }
      for (int point : new int[] {4, 7}) {
        Path out = dir.resolve("restore-" + k + "-" + point);
        new RestoreRunner(repo).run(RestoreRequest.builder(QemuChain.DOMAIN).checkpoint("cp" + point).build(), RestoreTarget.folder(out, false), Progress.NONE);
        for (String d : QemuChain.DISKS) {
          Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", chain.copy(point, d).toString(),
              out.resolve(d + ".raw").toString());
        }
      }

      ConsolidateResult next = new Consolidator(repo).run(
          ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp4"), "test"), Progress.NONE);
      assertEquals(!Arrays.equals(old, now), !next.consolidated(), at + "the next run finishes what is left");
      assertEquals(List.of(RepositoryLock.FILE_NAME, "cp1.tar", "cp2.tar", "cp3.tar", "cp4.tar", "cp5.tar", "cp6.tar",
          "cp7.tar"), names(folder), at + "the next run removed the leftovers");
      assertEquals(1, repo.chain(QemuChain.DOMAIN, Optional.of("cp4")).size(), at);
      assertEquals(List.of(), ArchiveVerifier.verify(chain.archive(4)), at);
      Files.copy(original, chain.archive(4), StandardCopyOption.REPLACE_EXISTING);
    }
    List<String> summary = new ArrayList<>(List.of(midWrite + " of " + KILLS + " kills landed mid-write",
        replaced + " after the swap"));
    System.out.println("consolidation kills: " + summary);
    assertTrue(midWrite >= KILLS / 4, summary.toString());
  }
}
