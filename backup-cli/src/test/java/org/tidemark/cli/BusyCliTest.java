package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;

/**
 * What a nightly job sees when something else holds what it needs: a disk a running QEMU writes
 * (exit 9, nothing written) and a domain another tidemark run is backing up (exit 8, nothing done,
 * or a wait with --lock-wait).
 */
@Timeout(120)
class BusyCliTest {
  @TempDir Path dir;
  Path disk;
  Path cp1;
  Path repo;

  @BeforeEach
  void copySample() throws Exception {
    Path sample = Path.of("..", "sample");
    cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), dir.resolve("cp1.xml"));
    disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
  }

  private Cli.Result backup(String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("backup", "--repo", repo.toString(), "--checkpoint",
        cp1.toString(), "--disk", "vda=" + disk));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  private List<Path> repositoryFiles() throws Exception {
    if (!Files.exists(repo)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(repo)) {
      return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals(RepositoryLock.FILE_NAME))
          .toList();
    }
  }

  @Test
  void aDiskARunningQemuWritesIsRefusedWithExitNine() throws Exception {
    Path socket = dir.resolve("nbd.sock");
    Process nbd = new ProcessBuilder("qemu-nbd", "-f", "qcow2", "--socket=" + socket, disk.toString())
        .redirectErrorStream(true).start();
    try {
      for (int i = 0; i < 200 && !Files.exists(socket); i++) {
        assertTrue(nbd.isAlive(), "qemu-nbd exited early");
        Thread.sleep(50);
      }
      Cli.Result r = backup();
      assertEquals(ExitCodes.DISK_IN_USE, r.code(), r.toString());
      String err = r.err().strip();
      assertFalse(err.contains("\n"), "one line: " + r);
      assertTrue(err.startsWith("tidemark: " + disk + ": "), r.toString());
      assertTrue(err.contains("in use by a running QEMU process; back it up live through libvirt"), r.toString());
      assertEquals(List.of(), repositoryFiles(), "nothing written");
    } finally {
      nbd.destroy();
      nbd.waitFor(30, TimeUnit.SECONDS);
    }
    Cli.Result after = backup();
    assertEquals(ExitCodes.OK, after.code(), after.toString());
  }

  @Test
  void aDomainAnotherRunBacksUpIsRefusedWithExitEightOrWaitedFor() throws Exception {
    Repository r = Repository.at(repo);
    // held by another thread, as by another process (the holding thread itself may take it again)
    java.util.concurrent.CountDownLatch locked = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Thread holder = new Thread(() -> {
      try (RepositoryLock held = r.lock("sample", "backup of cp0", Duration.ZERO)) {
        locked.countDown();
        release.await();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    holder.start();
    assertTrue(locked.await(60, TimeUnit.SECONDS));
    try {
      Cli.Result refused = backup();
      assertEquals(ExitCodes.LOCKED, refused.code(), refused.toString());
      String err = refused.err().strip();
      assertFalse(err.contains("\n"), "one line: " + refused);
      assertTrue(err.contains("domain 'sample' is locked by another Tidemark run (PID "), refused.toString());
      assertTrue(err.contains("backup of cp0"), refused.toString());

      long t0 = System.nanoTime();
      Cli.Result waited = backup("--lock-wait", "1");
      assertEquals(ExitCodes.LOCKED, waited.code(), waited.toString());
      assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1000), "it waited a second first");
      assertEquals(List.of(), repositoryFiles(), "nothing written");
    } finally {
      release.countDown();
      holder.join(60_000);
    }
    Cli.Result ok = backup("--lock-wait", "1");
    assertEquals(ExitCodes.OK, ok.code(), ok.toString());
    assertTrue(Cli.run("--help").out().contains("8   another tidemark run holds"), "documented in --help");
  }
}
