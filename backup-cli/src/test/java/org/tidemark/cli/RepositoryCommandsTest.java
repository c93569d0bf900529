package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.RepositoryFixtures;

/**
 * {@code list}, {@code verify} and {@code restore} on repositories of many archives and with
 * files that are not archives: the work they do (archives opened, counted, not timed) and that
 * they finish.
 */
class RepositoryCommandsTest {
  @TempDir Path dir;
  private Path fifo;

  /** Releases an open a FIFO might hold (read-write opens of a FIFO never block, and wake a blocked reader). */
  @AfterEach
  void releaseFifo() throws IOException {
    if (fifo != null) {
      FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
    }
  }

  private Path mkfifo(Path p) throws Exception {
    Process proc = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertEquals(0, proc.waitFor(), "mkfifo " + p);
    fifo = p;
    return p;
  }

  @Test
  void verifyReadsEachArchiveOfAChainOnceForAllChains() throws Exception {
    // one chain of 200: resolving each backup's chain by reading the folder again opened 200 + 200 * 200
    int n = 200;
    Path repo = dir.resolve("repo");
    RepositoryFixtures.chain(repo, "vm1", n);
    long before = RepositoryFixtures.opens();
    Cli.Result r = Cli.run("verify", "--repo", repo.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("verified " + n + " archive(s): all sound"), r.toString());
    assertEquals(n, RepositoryFixtures.opens() - before, "archives the repository opened");

    before = RepositoryFixtures.opens();
    r = Cli.run("verify", "--repo", repo.toString(), "--domain", "vm1", "--checkpoint", "cp00150");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("verified 151 archive(s): all sound"), r.toString());
    assertEquals(n, RepositoryFixtures.opens() - before, "archives the repository opened");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open ignores interrupts
  void aFifoNamedLikeAnArchiveIsReportedUnopenedByListVerifyAndRestore() throws Exception {
    Path repo = dir.resolve("repo");
    RepositoryFixtures.chain(repo, "vm1", 3);
    Path cp9 = mkfifo(repo.resolve("vm1/cp9.tar"));
    String problem = cp9 + ": is a FIFO, not a regular file (not opened: reading it could block or never end)";

    Cli.Result list = Cli.run("list", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, list.code(), "an unreadable archive is listed, and flagged: " + list);
    assertTrue(list.out().contains("UNREADABLE " + problem), list.toString());
    assertTrue(list.out().contains("cp00002"), list.toString());

    Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, verify.code(), verify.toString());
    assertEquals(List.of("tidemark: " + problem), verify.err().lines().toList(), verify.toString());
    assertTrue(verify.out().contains("verified 3 archive(s): 1 problem(s)"), verify.toString());

    Path to = dir.resolve("restored");
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "vm1", "--checkpoint", "cp9",
        "--to", to.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, restore.code(), restore.toString());
    assertEquals(1, restore.err().lines().count(), restore.toString());
    assertTrue(restore.err().contains("no backup of checkpoint 'cp9'") && restore.err().contains(
        "unreadable archives: cp9.tar: is a FIFO"), restore.toString());
    // the newest readable point: restored or refused (an unreadable archive may be newer), never stuck
    Cli.Result newest = Cli.run("restore", "--repo", repo.toString(), "--domain", "vm1", "--to", to.toString());
    assertTrue(newest.code() == ExitCodes.OK || newest.code() == ExitCodes.CORRUPT_ARCHIVE, newest.toString());
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open ignores interrupts
  void aFifoGivenAsDiskIsRefusedWithoutBlocking() throws Exception {
    Path sample = Path.of("..", "sample");
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Path disk = mkfifo(dir.resolve("vda.fifo"));
    Path repo = dir.resolve("repo");
    Cli.Result r = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + disk);
    assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
    assertEquals(List.of("tidemark: " + disk + ": is a FIFO, not a regular file or a block device (a disk image is one"
        + " of these)"), r.err().lines().toList(), r.toString());
    try (Stream<Path> left = Files.exists(repo) ? Files.walk(repo) : Stream.empty()) {
      assertEquals(List.of(), left.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().equals(org.tidemark.archive.RepositoryLock.FILE_NAME)).toList(),
          "files left in the repository (its lock file aside)");
    }
  }
}
