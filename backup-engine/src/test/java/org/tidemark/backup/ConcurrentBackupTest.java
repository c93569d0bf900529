package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLockedException;
import org.tidemark.disk.DiskSource;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * Two backups of one domain at once (two overlapping cron jobs): the second refuses cleanly, or
 * with a lock wait queues behind the first; the first is never harmed (before the domain lock the
 * second deleted the first's unfinished archive as a "leftover", and the first failed at commit).
 */
@Timeout(120)
class ConcurrentBackupTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2")));

  @TempDir Path dir;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  private static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).build();
  }

  private static BackupRequest request(Checkpoint y, Map<String, Checkpoint> known, DiskSource source) {
    return BackupRequest.builder(y, d -> source).knownCheckpoints(known).chunkSize(65536).toolVersion("test").build();
  }

  @Test
  void aSecondBackupOfTheDomainRefusesWhileTheFirstRunsAndTheFirstCompletes() throws Exception {
    MemoryDisk vda = new MemoryDisk(4 << 20, 65536);
    byte[] data = new byte[1 << 20];
    new Random(1).nextBytes(data);
    vda.write(0, data, false);
    vda.addBitmap("cp1");
    byte[] atCp1 = vda.bytes.clone();
    Repository repo = Repository.at(dir.resolve("repo"));
    Gate gate = new Gate(vda);

    Future<BackupResult> first = threads.submit(() ->
        new BackupRunner(repo).run(request(checkpoint("cp1", null), Map.of(), gate), Progress.NONE));
    assertTrue(gate.reading.await(60, TimeUnit.SECONDS), "the first backup started reading");
    List<Path> pending = tempFiles(repo.domainDir("vm1"));
    assertEquals(1, pending.size(), "the first backup's unfinished archive: " + pending);

    vda.addBitmap("cp2");
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    RepositoryLockedException refused = assertThrows(RepositoryLockedException.class, () ->
        new BackupRunner(repo).run(request(cp2, Map.of("cp1", checkpoint("cp1", null)), vda), Progress.NONE));
    assertEquals("vm1", refused.domain());
    assertTrue(refused.holder().orElseThrow().contains("backup of cp1"), refused.getMessage());
    assertTrue(refused.holder().orElseThrow().contains("PID " + ProcessHandle.current().pid()), refused.getMessage());
    assertEquals(pending, tempFiles(repo.domainDir("vm1")), "the refused run removed nothing");

    gate.open.countDown();
    BackupResult r1 = first.get(60, TimeUnit.SECONDS);
    assertEquals(List.of(), ArchiveVerifier.verify(r1.archive()));
    assertEquals(List.of(), tempFiles(repo.domainDir("vm1")));

    // the refused run, run again once the first is done, is incremental on it
    BackupResult r2 = new BackupRunner(repo).run(request(cp2, Map.of("cp1", checkpoint("cp1", null)), vda),
        Progress.NONE);
    assertEquals(DiskDecision.INCREMENTAL, r2.plan().disks().get(0).decision());
    assertRestores(repo, "cp1", atCp1);
    assertRestores(repo, "cp2", vda.bytes);
  }

  @Test
  void withALockWaitTheSecondBackupQueuesBehindTheFirst() throws Exception {
    MemoryDisk vda = new MemoryDisk(2 << 20, 65536);
    byte[] data = new byte[1 << 20];
    new Random(2).nextBytes(data);
    vda.write(65536, data, false);
    vda.addBitmap("cp1");
    byte[] atCp1 = vda.bytes.clone();
    Repository repo = Repository.at(dir.resolve("repo"));
    Gate gate = new Gate(vda);
    Future<BackupResult> first = threads.submit(() ->
        new BackupRunner(repo).run(request(checkpoint("cp1", null), Map.of(), gate), Progress.NONE));
    assertTrue(gate.reading.await(60, TimeUnit.SECONDS));

    vda.addBitmap("cp2");
    Future<BackupResult> second = threads.submit(() -> new BackupRunner(repo, Duration.ofSeconds(60)).run(
        request(checkpoint("cp2", "cp1"), Map.of("cp1", checkpoint("cp1", null)), vda), Progress.NONE));
    Thread.sleep(500); // the second is waiting for the lock now (it cannot have finished: the lock is held)
    assertTrue(!second.isDone(), "the second backup waits while the first holds the lock");
    gate.open.countDown();
    BackupResult r1 = first.get(60, TimeUnit.SECONDS);
    BackupResult r2 = second.get(60, TimeUnit.SECONDS);
    assertEquals(List.of(), ArchiveVerifier.verify(r1.archive()));
    assertEquals(List.of(), ArchiveVerifier.verify(r2.archive()));
    assertEquals(DiskDecision.INCREMENTAL, r2.plan().disks().get(0).decision());
    assertRestores(repo, "cp1", atCp1);
    assertRestores(repo, "cp2", vda.bytes);
  }

  @Test
  void aWaitThatRunsOutRefusesNamingTheHolder() throws Exception {
    Repository repo = Repository.at(dir.resolve("repo"));
    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Future<?> holder = threads.submit(() -> {
      try (var held = repo.lock("vm1", "prune of everything", Duration.ZERO)) {
        locked.countDown();
        release.await();
      }
      return null;
    });
    assertTrue(locked.await(60, TimeUnit.SECONDS));
    long t0 = System.nanoTime();
    RepositoryLockedException e = assertThrows(RepositoryLockedException.class,
        () -> repo.lock("vm1", "backup of cp9", Duration.ofMillis(600)));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(600), "it waited");
    assertTrue(e.getMessage().contains("prune of everything"), e.getMessage());
    assertEquals(repo.domainDir("vm1").resolve(".lock").toAbsolutePath().normalize().toString(), e.getFile());
    repo.lock("vm2", "backup of cp1", Duration.ZERO).close(); // another domain is not locked
    release.countDown();
    holder.get(60, TimeUnit.SECONDS);
    repo.lock("vm1", "backup of cp9", Duration.ZERO).close(); // released
  }

  @Test
  void theHoldingThreadMayTakeItsLockAgain() throws Exception {
    Repository repo = Repository.at(dir.resolve("repo"));
    try (var outer = repo.lock("vm1", "live backup", Duration.ZERO)) {
      repo.lock("vm1", "backup of cp1", Duration.ZERO).close(); // reentrant: a live backup around its run
      Future<?> other = threads.submit(() -> repo.lock("vm1", "backup of cp2", Duration.ZERO));
      java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> other.get(60, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof RepositoryLockedException, "still held after the inner close: " + e);
    }
    threads.submit(() -> {
      repo.lock("vm1", "backup of cp2", Duration.ZERO).close();
      return null;
    }).get(60, TimeUnit.SECONDS);
  }

  private static void assertRestores(Repository repo, String checkpoint, byte[] expected) throws IOException {
    Path out = Files.createTempDirectory("restore");
    new RestoreRunner(repo).run(RestoreRequest.builder("vm1").checkpoint(checkpoint).build(), RestoreTarget.folder(out.resolve("o"), false), Progress.NONE);
    assertArrayEquals(expected, Files.readAllBytes(out.resolve("o").resolve("vda.raw")), checkpoint);
  }

  private static List<Path> tempFiles(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.filter(p -> p.getFileName().toString().contains(".tmp-")).sorted().toList();
    }
  }

  /** A source whose reads wait at a gate: the backup holding it stays in the middle of its copy. */
  private static final class Gate extends ForwardingDisk {
    final CountDownLatch reading = new CountDownLatch(1);
    final CountDownLatch open = new CountDownLatch(1);

    Gate(MemoryDisk disk) {
      super(disk);
    }

    @Override
    public String description() {
      return "gated " + disk.description();
    }

    @Override
    public void readFully(long offset, ByteBuffer dst) throws IOException {
      reading.countDown();
      try {
        if (!open.await(60, TimeUnit.SECONDS)) {
          throw new IOException("gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException();
      }
      disk.readFully(offset, dst);
    }
  }
}
