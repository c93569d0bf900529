package org.tidemark.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.restore.ImageFormat;
import org.tidemark.disk.DiskImageWriter;

/**
 * The restore's write stage: the same 64 MiB of extents (1 MiB pieces in shuffled order, a quarter
 * of their 64 KiB clusters zeros) written by one worker per core into a {@code RawImageWriter}
 * (baseline) and into a {@code Qcow2ImageWriter}, then discarded (no fsync: the page cache, not the
 * disk, is measured). The qcow2 variant adds the zero check and the L2 lookup or allocation per
 * cluster, and skips the zero clusters. Score: images of 64 MiB per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ImageWriteBenchmark {
  static final int SIZE = 64 << 20;
  static final int PIECE = 1 << 20;

  Path dir;
  List<Integer> order;
  byte[] data;
  ExecutorService pool;
  int counter;

  @Setup(Level.Trial)
  public void setup() throws IOException {
    dir = Files.createTempDirectory("tidemark-bench");
    Random r = new Random(42);
    data = new byte[SIZE];
    r.nextBytes(data);
    for (int c = 0; c < SIZE; c += 65536) {
      if (r.nextInt(4) == 0) {
        java.util.Arrays.fill(data, c, c + 65536, (byte) 0);
      }
    }
    order = new ArrayList<>();
    for (int i = 0; i < SIZE / PIECE; i++) {
      order.add(i);
    }
    java.util.Collections.shuffle(order, r);
    pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    pool.shutdownNow();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private long write(ImageFormat format) throws Exception {
    Path target = format.imagePath(dir, "bench-" + counter++);
    try (DiskImageWriter w = format.create(target, SIZE, false)) {
      List<Future<?>> done = new ArrayList<>();
      for (int piece : order) {
        done.add(pool.submit(() -> {
          w.write((long) piece * PIECE, ByteBuffer.wrap(data, piece * PIECE, PIECE));
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      return w.virtualSize();
    } // closed without commit: the temporary file is deleted
  }

  @Benchmark
  public long rawWriter() throws Exception {
    return write(ImageFormat.RAW);
  }

  @Benchmark
  public long qcow2Writer() throws Exception {
    return write(ImageFormat.QCOW2);
  }
}
