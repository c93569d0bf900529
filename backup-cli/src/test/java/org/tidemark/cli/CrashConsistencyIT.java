package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tidemark.cli.PackagedJarIT.names;
import static org.tidemark.cli.PackagedJarIT.qemu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of the packaged command at seeded random points of an incremental backup and of a
 * restore (SIGKILL: no shutdown hook runs, nothing is cleaned up on the way out). After every kill
 * the repository verifies clean, the backup made before restores identical to QEMU's copy of the
 * disk, no file that looks complete is left half-written, and the next run succeeds. The killed
 * runs are processes of the packaged jar; the checks after each kill run the same command
 * in-process, which spares a JVM start each.
 */
class CrashConsistencyIT {
  private static final int KILLS = 10;

  @TempDir Path dir;

  private static final String CP1 = "../sample/checkpoints/cp1.xml";
  private static final String CP2 = "../sample/checkpoints/cp2.xml";

  /** The packaged command as a process (its few lines of output stay in the pipe). */
  private static Process start(List<String> args) throws Exception {
    return PackagedJarIT.start(args.toArray(String[]::new));
  }

  /** Runs to completion, returning how long it took in milliseconds. */
  private static long timed(List<String> args) throws Exception {
    long t0 = System.nanoTime();
    Process p = start(args);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "uninterrupted run of " + args);
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
  }

  /**
   * Runs to completion, returning how long it wrote: from the moment a file starting with {@code
   * tempPrefix} appeared in {@code folder} to the moment it was gone (renamed), in milliseconds.
   */
  private static long writePhase(List<String> args, Path folder, String tempPrefix) throws Exception {
    Process p = start(args);
    assertTrue(PackagedJarIT.awaitFile(folder, tempPrefix, p), "the run wrote " + tempPrefix + "*");
    long t0 = System.nanoTime();
    while (p.isAlive() && PackagedJarIT.names(folder).stream().anyMatch(n -> n.startsWith(tempPrefix))) {
      Thread.sleep(1);
    }
    long t1 = System.nanoTime();
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "uninterrupted run of " + args);
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(t1 - t0));
  }

  /**
   * Starts a run and SIGKILLs it: after {@code delayMs} from the start, or, when {@code tempPrefix}
   * is given, {@code delayMs} after a file starting with it appeared in {@code folder} (the write
   * phase, which on a slow machine may begin well after the JVM started).
   */
  private static void killAfter(List<String> args, long delayMs, Path folder, String tempPrefix) throws Exception {
    Process p = start(args);
    if (tempPrefix == null || PackagedJarIT.awaitFile(folder, tempPrefix, p)) {
      Thread.sleep(delayMs);
      p.destroyForcibly();
    }
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
  }

  @Test
  void killedAtRandomPointsABackupOrARestoreNeverLeavesAnythingThatLooksComplete() throws Exception {
    Path image = PackagedJarIT.randomImage(dir, "vda.qcow2", 32);
    Path repo = dir.resolve("repo");
    Path domain = repo.resolve("sample");
    qemu("qemu-img", "bitmap", "--add", image.toString(), "cp1");
    Path atCp1 = dir.resolve("cp1.raw");
    qemu("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), atCp1.toString());
    List<String> backupCp1 = List.of("backup", "--repo", repo.toString(), "--checkpoint", CP1, "--disk", "vda=" + image,
        "--compress", "deflate", "-q");
    timed(backupCp1);
    List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < 3; i++) {
      io.addAll(List.of("-c", "write -q -s " + dir.resolve("pattern") + " " + (60 + 8 * i) + "M 8M"));
    }
    io.add(image.toString());
    qemu(io.toArray(String[]::new));
    qemu("qemu-img", "bitmap", "--add", image.toString(), "cp2");
    Path atCp2 = dir.resolve("cp2.raw");
    qemu("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), atCp2.toString());

    Random seeded = new Random(20261202);
    List<String> backupCp2 = List.of("backup", "--repo", repo.toString(), "--checkpoint", CP2, "--checkpoint-dir",
        "../sample/checkpoints", "--disk", "vda=" + image, "--compress", "deflate", "-q");
    long backupMs = timed(backupCp2);
    Files.delete(domain.resolve("cp2.tar"));
    long backupWriteMs = writePhase(backupCp2, domain, ".cp2.tar.tmp-");
    Files.delete(domain.resolve("cp2.tar"));
    int midWrite = 0;
    for (int k = 0; k < KILLS; k++) {
      // even points: anywhere in the run (start-up, planning, writing); odd: while writing
      boolean writing = k % 2 == 1;
      long delay = (long) (seeded.nextDouble() * (writing ? 0.9 * backupWriteMs : backupMs));
      killAfter(backupCp2, delay, domain, writing ? ".cp2.tar.tmp-" : null);
      List<String> left = names(domain);
      String at = "backup killed " + delay + " ms after " + (writing ? "it began writing" : "its start") + " (a run takes "
          + backupMs + " ms): ";
      assertTrue(left.contains("cp1.tar"), at + "the earlier archive is still there: " + left);
      if (left.contains("cp2.tar")) {
        // the kill came after the rename: the archive is complete, and must verify
        assertEquals(0, Cli.run("verify", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp2").code(), at);
      } else {
        midWrite += left.stream().anyMatch(n -> n.startsWith(".cp2.tar.tmp-")) ? 1 : 0;
      }
      Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
      assertEquals(0, verify.code(), at + verify.out() + verify.err());
      Path out = dir.resolve("restore-cp1-" + k);
      Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp1",
          "--to", out.toString(), "-q");
      assertEquals(0, restore.code(), at + restore.err());
      qemu("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", atCp1.toString(), out.resolve("vda.raw").toString());
      deleteTree(out);
      Cli.Result next = Cli.run(backupCp2.toArray(String[]::new));
      assertTrue(next.code() == 0 || next.code() == ExitCodes.WOULD_OVERWRITE && left.contains("cp2.tar"),
          at + "the next backup succeeds: " + next.err());
      assertEquals(List.of(org.tidemark.archive.RepositoryLock.FILE_NAME, "cp1.tar", "cp2.tar"), names(domain),
          at + "leftovers removed (the domain's lock file stays)");
      Files.delete(domain.resolve("cp2.tar"));
    }
    assertTrue(midWrite >= KILLS / 3, midWrite + " of " + KILLS + " kills landed while the archive was written");
    timed(backupCp2);

    Path probe = dir.resolve("restore-probe");
    List<String> restoreProbe = List.of("restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        probe.toString(), "-q");
    long restoreMs = timed(restoreProbe);
    deleteTree(probe);
    long restoreWriteMs = writePhase(restoreProbe, probe, ".vda.raw.tmp-");
    deleteTree(probe);
    midWrite = 0;
    for (int k = 0; k < KILLS; k++) {
      boolean writing = k % 2 == 1;
      long delay = (long) (seeded.nextDouble() * (writing ? 0.9 * restoreWriteMs : restoreMs));
      Path out = dir.resolve("restore-" + k);
      killAfter(List.of("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "-q"), delay,
          out, writing ? ".vda.raw.tmp-" : null);
      String at = "restore killed " + delay + " ms after " + (writing ? "it began writing" : "its start")
          + " (a run takes " + restoreMs + " ms): ";
      List<String> left = names(out);
      midWrite += left.stream().anyMatch(n -> n.startsWith(".vda.raw.tmp-")) ? 1 : 0;
      if (left.contains("vda.raw")) {
        // renamed before the kill: then it is complete
        qemu("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", atCp2.toString(), out.resolve("vda.raw").toString());
      }
      Cli.Result again = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--force",
          "-q");
      assertEquals(0, again.code(), at + again.err());
      assertEquals(List.of("sample.xml", "vda.raw"), names(out), at + "leftovers removed");
      qemu("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", atCp2.toString(), out.resolve("vda.raw").toString());
      deleteTree(out);
    }
    assertTrue(midWrite >= KILLS / 3, midWrite + " of " + KILLS + " kills landed while the image was written");
    assertFalse(Files.exists(dir.resolve("restore-0")));
  }

  private static void deleteTree(Path p) throws Exception {
    if (Files.exists(p)) {
      try (var s = Files.walk(p)) {
        for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(x);
        }
      }
    }
  }
}
