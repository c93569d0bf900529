package org.tidemark.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.tidemark.qcow2.DirtyRuns;

/**
 * Dirty-extent extraction (the reader's bitmap scan and run coalescing, {@link DirtyRuns}) against
 * a plain {@code Long.bitCount} sweep over the same words: the floor of any scan that looks at every
 * word. Bitmaps from a fixed seed: dense (almost all set, a clear bit here and there), sparse (one
 * short run per 512 words) and random (every bit a coin toss: a run every 2 bits, the worst case),
 * of 16 KiB (cache-resident) and 64 MiB (out of cache). The runs go to a sink that sums them, so
 * the scan is measured, not the allocation of millions of extents. The secondary score "bytes" is
 * bitmap bytes scanned per second: compare the two benchmarks' "bytes" at one pattern and size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class DirtyExtentBenchmark {
  @Param({"dense", "sparse", "random"})
  String pattern;

  @Param({"16384", "67108864"})
  int bytes;

  long[] words;

  /** Bitmap bytes scanned, reported per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Scanned {
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
      bytes = 0;
    }
  }

  @Setup(Level.Trial)
  public void setup() {
    SplittableRandom r = new SplittableRandom(20261202);
    words = new long[bytes / 8];
    for (int i = 0; i < words.length; i++) {
      words[i] = switch (pattern) {
        case "dense" -> r.nextInt(16) == 0 ? ~(1L << r.nextInt(64)) : -1L;
        case "sparse" -> r.nextInt(512) == 0 ? ((1L << (1 + r.nextInt(8))) - 1) << r.nextInt(56) : 0L;
        case "random" -> r.nextLong();
        default -> throw new IllegalArgumentException(pattern);
      };
    }
  }

  @Benchmark
  public void dirtyExtents(Scanned scanned, Blackhole bh) {
    long[] sum = new long[2];
    long bits = words.length * 64L;
    DirtyRuns runs = new DirtyRuns(65536, bits * 65536, (offset, length) -> {
      sum[0] += offset;
      sum[1] += length;
    });
    runs.words(words, 0, bits);
    runs.finish(bits);
    bh.consume(sum[0] ^ sum[1]);
    scanned.bytes += bytes;
  }

  @Benchmark
  public long bitCountSweep(Scanned scanned) {
    long n = 0;
    for (long w : words) {
      n += Long.bitCount(w);
    }
    scanned.bytes += bytes;
    return n;
  }
}
