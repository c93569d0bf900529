package org.tidemark.bench;

import com.github.luben.zstd.ZstdCompressCtx;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * zstd's speed and ratio by level on each kind of guest data ({@link GuestData}): one 4 MiB chunk
 * compressed into a reused direct buffer, as the backup pipeline does. Score: chunks per second
 * (times 4 MiB for bytes per second); level 3 (the default before 2026-12-05) is the same-run
 * baseline. The setup prints each trial's ratio (raw / compressed) as {@code ratio KIND LEVEL}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class ZstdLevelBenchmark {
  private static final int SIZE = 4 << 20;

  @Param({"RANDOM", "WORDS", "TEXT", "ZERO"})
  GuestData.Kind kind;

  @Param({"3", "1", "-1", "-3"})
  int level;

  ByteBuffer raw;
  ByteBuffer out;
  ZstdCompressCtx ctx;

  @Setup
  public void setup() {
    raw = ByteBuffer.allocateDirect(SIZE).put(GuestData.make(kind, SIZE, 42)).flip();
    out = ByteBuffer.allocateDirect(SIZE + 65536);
    ctx = new ZstdCompressCtx().setLevel(level).setChecksum(false);
    System.out.printf("%nratio %s %d = %.2f%n", kind, level, (double) SIZE / compress());
  }

  @TearDown
  public void close() {
    ctx.close();
  }

  @Benchmark
  public int compress() {
    return ctx.compressDirectByteBuffer(out, 0, out.capacity(), raw, 0, SIZE);
  }
}
