package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * The backup's window of chunks in flight is bounded by bytes ({@link ChunkBuffers}), not by a
 * count: small chunks (an incremental's dirty extents of one cluster) keep as many bytes in flight
 * as whole chunks do, and whole chunks no more than {@link BackupRunner#WINDOW} of them. Counted:
 * chunks handed to the workers (a counting executor) against chunks written (progress), never
 * timed. Until 2026-12-05 at most 8 chunks were in flight whatever their size.
 */
class ChunkWindowTest {
  private static final int CLUSTER = 64 << 10;
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2")));

  @TempDir Path dir;

  /** Submitted minus written, at its largest over the backup. */
  private static int maxInFlight(Path repoDir, MemoryDisk disk, int chunkSize) throws IOException {
    AtomicInteger submitted = new AtomicInteger();
    AtomicInteger written = new AtomicInteger();
    AtomicInteger max = new AtomicInteger();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      EngineOptions options = EngineOptions.builder().executor(task -> {
        submitted.incrementAndGet();
        threads.execute(task);
      }).build();
      Progress counting = new Progress() {
        @Override
        public void advance(long bytes) {
          max.accumulateAndGet(submitted.get() - written.getAndIncrement(), Math::max);
        }
      };
      disk.addBitmap("cp1");
      Checkpoint cp = Checkpoint.builder().name("cp1").creationTime(1).domain(DOMAIN)
          .addDisk(CheckpointDisk.bitmap("vda", "cp1")).build();
      Repository repo = Repository.at(repoDir);
      BackupResult r = new BackupRunner(repo, options).run(BackupRequest.builder(cp, name -> disk).codec(Codec.ZSTD)
          .chunkSize(chunkSize).toolVersion("test").build(), counting);
      assertEquals(List.of(), ArchiveVerifier.verify(r.archive()));
      Path out = repoDir.resolveSibling(repoDir.getFileName() + "-restored");
      new RestoreRunner(repo).run(RestoreRequest.builder("vm1").build(), RestoreTarget.folder(out, false),
          Progress.NONE);
      assertArrayEquals(disk.bytes, Files.readAllBytes(out.resolve("vda.raw")));
      return max.get();
    } finally {
      threads.shutdownNow();
    }
  }

  /** A disk of 128 clusters whose even clusters hold random bytes: 64 data extents of one cluster. */
  private static MemoryDisk everyOtherCluster(long seed) {
    MemoryDisk d = new MemoryDisk(128 * CLUSTER, CLUSTER);
    Random r = new Random(seed);
    for (int c = 0; c < 128; c += 2) {
      byte[] data = new byte[CLUSTER];
      r.nextBytes(data);
      d.write(c * CLUSTER, data, false);
    }
    return d;
  }

  @Test
  void smallChunksFillTheWindowByBytes() throws IOException {
    // chunks of 1 MiB, extents of 64 KiB: the window of 9 MiB holds all 64 single-cluster chunks
    int most = maxInFlight(dir.resolve("small"), everyOtherCluster(1), 1 << 20);
    assertTrue(most > 2 * 8, "chunks in flight at most: " + most + " (8 before the byte window)");
  }

  @Test
  void wholeChunksStayWithinTheWindow() throws IOException {
    // chunks as large as the extents: the window holds WINDOW of them at most
    int most = maxInFlight(dir.resolve("whole"), everyOtherCluster(2), CLUSTER);
    assertTrue(most <= BackupRunner.WINDOW, "chunks in flight at most: " + most);
  }

  static Stream<Long> seeds() {
    return LongStream.rangeClosed(1, 20).boxed();
  }

  /**
   * Random lengths taken and released in order: the pairs never overlap one another, each buffer
   * starts aligned and has the length asked for (rounded up), an empty ring is never full, and the
   * pairs taken never hold more than its capacity.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void theRingHandsOutDisjointAlignedPairsInOrder(long seed) {
    Random r = new Random(seed);
    int chunk = 1 << (12 + r.nextInt(9));
    ChunkBuffers ring = new ChunkBuffers(3 * ChunkBuffers.footprint(chunk), Long.MAX_VALUE);
    List<ByteBuffer[]> live = new ArrayList<>();
    for (int step = 0; step < 2000; step++) {
      if (!live.isEmpty() && r.nextInt(3) == 0) {
        ring.releaseOldest();
        live.remove(0);
        continue;
      }
      int len = 1 + r.nextInt(chunk);
      ByteBuffer[] pair = ring.take(len);
      long used = live.stream().mapToLong(p -> 2L * p[0].capacity()).sum();
      if (pair == null) {
        assertTrue(!live.isEmpty(), "refused with an empty ring");
        ring.releaseOldest();
        live.remove(0);
        continue;
      }
      assertTrue(used + ChunkBuffers.footprint(len) <= ring.capacity(), "over capacity");
      for (ByteBuffer b : pair) {
        assertTrue(b.capacity() >= len && b.capacity() < len + ChunkBuffers.ALIGN, "length " + b.capacity() + " for " + len);
        assertEquals(0, b.alignmentOffset(0, ChunkBuffers.ALIGN), "aligned start");
      }
      // each live buffer carries the step that took it: a later pair overwriting it shows here
      for (ByteBuffer b : pair) {
        for (int i = 0; i < b.capacity(); i += 512) {
          b.putInt(i, step);
        }
      }
      live.add(pair);
      for (ByteBuffer[] p : live) {
        int owner = p[0].getInt(0);
        for (ByteBuffer b : p) {
          for (int i = 0; i < b.capacity(); i += 512) {
            assertEquals(owner, b.getInt(i), "overlapping pairs");
          }
        }
      }
      assertEquals(live.size(), ring.inFlight());
    }
  }

  @Test
  void theRingIsNoLargerThanTheCopyNeedsAndRefusesOversizedPairs() {
    ChunkBuffers ring = new ChunkBuffers(1 << 30, ChunkBuffers.footprint(5000));
    assertEquals(ChunkBuffers.footprint(5000), ring.capacity());
    assertThrows(IllegalArgumentException.class, () -> ring.take(5000 + ChunkBuffers.ALIGN));
    ByteBuffer[] pair = ring.take(5000);
    assertEquals(8192, pair[0].capacity());
    assertEquals(8192, pair[1].capacity());
    assertNull(ring.take(1), "full until the oldest is released");
    ring.releaseOldest();
    assertEquals(0, ring.inFlight());
    assertThrows(IllegalStateException.class, ring::releaseOldest);
  }
}
