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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.CancelledException;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.ImageFormat;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.restore.RestoreTarget;

/**
 * The engine's options and per-run controls: a caller's executor runs the chunk tasks, a
 * cancellation stops backup, restore and verify between chunks leaving nothing behind, progress
 * is told per disk (and per archive for verify), and a restore writes to a target the caller gives.
 */
class EngineOptionsTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n  <devices>\n"
          + "    <disk type='file' device='disk'>\n      <target dev='vda'/>\n    </disk>\n"
          + "    <disk type='file' device='disk'>\n      <target dev='vdb'/>\n    </disk>\n"
          + "  </devices>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2"), DomainDisk.of("vdb", "/images/vdb.qcow2", "qcow2")));
  private static final int CLUSTER = 65536;

  @TempDir Path dir;
  private final ExecutorService callers = Executors.newFixedThreadPool(3);

  @AfterEach
  void stop() {
    callers.shutdownNow();
  }

  private static Checkpoint checkpoint(String name) {
    return Checkpoint.builder().name(name).creationTime(1).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).addDisk(CheckpointDisk.bitmap("vdb", name)).build();
  }

  private static MemoryDisk randomDisk(long seed, int clusters) {
    Random r = new Random(seed);
    MemoryDisk d = new MemoryDisk(clusters * CLUSTER, CLUSTER);
    for (int i = 0; i < clusters; i += 1 + r.nextInt(3)) {
      byte[] data = new byte[CLUSTER];
      r.nextBytes(data);
      d.write(i * CLUSTER, data, false);
    }
    return d;
  }

  private static BackupRequest request(Checkpoint y, MemoryDisk vda, MemoryDisk vdb) {
    return BackupRequest.builder(y, d -> d.equals("vda") ? vda : vdb).codec(Codec.DEFLATE).chunkSize(CLUSTER).build();
  }

  /** A repository holding a full backup (cp1) of the two disks. */
  private Repository backedUp(MemoryDisk vda, MemoryDisk vdb) throws IOException {
    Repository repo = Repository.at(dir.resolve("repo"));
    new BackupRunner(repo).run(request(checkpoint("cp1"), vda, vdb), Progress.NONE);
    return repo;
  }

  /** Every file under {@code root}, hidden ones included (pending outputs are hidden). */
  private static List<Path> files(Path root) throws IOException {
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }

  /** Counts the progress it is told, per item. */
  private static class Recorder implements Progress {
    final Map<String, Long> announced = new LinkedHashMap<>();
    final Map<String, Long> advanced = new LinkedHashMap<>();
    long total;
    String current;
    int finished;

    @Override
    public void start(String task, long totalBytes) {
      total = totalBytes;
    }

    @Override
    public void item(String item, long totalBytes) {
      current = item;
      announced.put(item, totalBytes);
      advanced.put(item, 0L);
    }

    @Override
    public void advance(long bytes) {
      advanced.merge(current, bytes, Long::sum);
    }

    @Override
    public void finish() {
      finished++;
    }
  }

  @Test
  void theChunkTasksRunOnTheCallersExecutorAndProgressIsToldPerDisk() throws Exception {
    MemoryDisk vda = randomDisk(1, 40);
    MemoryDisk vdb = randomDisk(2, 12);
    AtomicInteger tasks = new AtomicInteger();
    EngineOptions options = EngineOptions.builder().executor(t -> {
      tasks.incrementAndGet();
      callers.execute(t);
    }).directIo(false).build();
    Repository repo = Repository.at(dir.resolve("repo"));
    Recorder backup = new Recorder();
    BackupResult b = new BackupRunner(repo, options).run(request(checkpoint("cp1"), vda, vdb), backup,
        Cancellation.create());
    int chunks = b.disks().stream().mapToInt(BackupResult.DiskResult::chunks).sum();
    assertEquals(chunks, tasks.get(), "one task per chunk, all on the caller's executor");
    assertEquals(List.of("vda", "vdb"), List.copyOf(backup.announced.keySet()));
    for (BackupResult.DiskResult d : b.disks()) {
      assertEquals(d.bytesRead(), backup.announced.get(d.disk()), d.disk());
      assertEquals(d.bytesRead(), backup.advanced.get(d.disk()), d.disk());
    }
    assertEquals(1, backup.finished);

    Recorder verify = new Recorder();
    assertEquals(List.of(), ArchiveVerifier.verify(b.archive(), options, verify, Cancellation.none()));
    assertEquals(verify.announced.values().iterator().next(), verify.advanced.values().iterator().next());
    assertEquals(b.disks().stream().mapToLong(BackupResult.DiskResult::bytesRead).sum(),
        verify.advanced.values().iterator().next());

    tasks.set(0);
    Recorder restore = new Recorder();
    Path out = dir.resolve("out");
    new RestoreRunner(repo, options).run(RestoreRequest.builder("vm1").build(),
        RestoreTarget.folder(out, false), restore, Cancellation.none());
    assertTrue(tasks.get() > 0, "the restore's chunk reads ran on the caller's executor");
    assertEquals(List.of("vda", "vdb"), List.copyOf(restore.announced.keySet()));
    assertEquals(restore.announced, restore.advanced);
    assertArrayEquals(vda.bytes, Files.readAllBytes(out.resolve("vda.raw")));
    assertArrayEquals(vdb.bytes, Files.readAllBytes(out.resolve("vdb.raw")));
  }

  /** A recorder that cancels {@code token} once {@code after} bytes of {@code item} are done. */
  private static Progress cancelling(Cancellation token, String item, long after) {
    return new Recorder() {
      @Override
      public void advance(long bytes) {
        super.advance(bytes);
        if (advanced.getOrDefault(item, 0L) >= after) {
          token.cancel();
        }
      }
    };
  }

  @Test
  void aCancelledBackupLeavesNoArchiveAndTheNextOneRuns() throws Exception {
    MemoryDisk vda = randomDisk(3, 40);
    MemoryDisk vdb = randomDisk(4, 40);
    Repository repo = Repository.at(dir.resolve("repo"));
    Cancellation token = Cancellation.create();
    CancelledException e = assertThrows(CancelledException.class, () -> new BackupRunner(repo).run(
        request(checkpoint("cp1"), vda, vdb), cancelling(token, "vdb", CLUSTER), token));
    assertTrue(e.operation().contains("vm1/cp1"), e.getMessage());
    // the domain's lock file stays, as after any run; nothing else
    assertEquals(List.of(dir.resolve("repo/vm1/.lock")), files(dir.resolve("repo/vm1")), "no archive, no pending output");
    BackupResult b = new BackupRunner(repo).run(request(checkpoint("cp1"), vda, vdb), Progress.NONE);
    assertEquals(List.of(), ArchiveVerifier.verify(b.archive()));
  }

  @Test
  void aCancelledRestoreLeavesNoneOfItsOutputs() throws Exception {
    Repository repo = backedUp(randomDisk(5, 40), randomDisk(6, 40));
    for (ImageFormat format : ImageFormat.values()) {
      Path out = Files.createDirectories(dir.resolve("out-" + format));
      Cancellation token = Cancellation.create();
      RestoreRequest req = RestoreRequest.builder("vm1").format(format).build();
      assertThrows(CancelledException.class, () -> new RestoreRunner(repo).run(req, RestoreTarget.folder(out, false),
          cancelling(token, "vdb", CLUSTER), token));
      assertEquals(List.of(), files(out), "vda was complete, yet nothing is left: " + format);
    }
  }

  @Test
  void aCancelledVerifyStops() throws Exception {
    Path archive = backedUp(randomDisk(7, 40), randomDisk(8, 4)).chain("vm1", Optional.empty()).get(0).path();
    Cancellation token = Cancellation.create();
    String item = archive.getFileName().toString();
    assertThrows(CancelledException.class, () -> ArchiveVerifier.verify(archive, EngineOptions.defaults(),
        cancelling(token, item, CLUSTER), token));
    assertThrows(UnsupportedOperationException.class, () -> Cancellation.none().cancel());
  }

  @Test
  void aRestoreWritesToTheTargetTheCallerGives() throws Exception {
    MemoryDisk vda = randomDisk(9, 30);
    MemoryDisk vdb = randomDisk(10, 7);
    Repository repo = backedUp(vda, vdb);
    Path out = Files.createDirectories(dir.resolve("devices"));
    List<String> opened = new ArrayList<>();
    RestoreTarget devices = new RestoreTarget() {
      @Override
      public Path location(String disk, ImageFormat format) {
        return out.resolve("dev-" + disk);
      }

      @Override
      public DiskOutput open(String disk, long size, ImageFormat format) throws IOException {
        opened.add(disk + ":" + size + ":" + format);
        FileChannel ch = FileChannel.open(location(disk, format), StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE);
        ch.write(ByteBuffer.allocate(1), size - 1); // the "device" has the disk's size, zeroed
        return DiskOutput.of(ch);
      }
    };
    var r = new RestoreRunner(repo).run(RestoreRequest.builder("vm1").build(), devices, Progress.NONE, Cancellation.none());
    assertEquals(List.of("vda:" + vda.bytes.length + ":raw", "vdb:" + vdb.bytes.length + ":raw"), opened);
    assertArrayEquals(vda.bytes, Files.readAllBytes(out.resolve("dev-vda")));
    assertArrayEquals(vdb.bytes, Files.readAllBytes(out.resolve("dev-vdb")));
    assertEquals(Optional.empty(), r.domainXml(), "this target takes no definition");
    assertEquals(out.resolve("dev-vda"), r.disks().get(0).image());
    assertTrue(Files.notExists(dir.resolve("unused")));
  }
}
