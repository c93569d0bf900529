package org.tidemark.bench;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
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
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.archive.Codec;
import org.tidemark.archive.EncodedChunk;

/**
 * The chunk stage of the backup pipeline: CRC-32C + zstd (what a backup does to every chunk)
 * against CRC-32C alone and against a plain copy of the same bytes, encoding into a reused buffer as
 * the backup pipeline does: in direct buffers, as the pipeline holds them (the bytes go to the
 * native coder in place). Score: chunks per second; multiply by the size for bytes per second.
 * Input: half random, half repetitive text, fixed seed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ChunkEncodeBenchmark {
  /** 256 KiB stays in the L2 cache; 4 MiB (the default chunk) does not. */
  @Param({"262144", "4194304"})
  int size;

  byte[] raw;
  byte[] copy;
  ByteBuffer directRaw;
  ByteBuffer scratch;

  @Setup
  public void setup() {
    Random r = new Random(42);
    raw = new byte[size];
    byte[] random = new byte[size / 2];
    r.nextBytes(random);
    System.arraycopy(random, 0, raw, 0, random.length);
    byte[] text = "backup restore disk cluster bitmap checkpoint domain guest kernel log ".getBytes();
    for (int i = size / 2; i < size; i++) {
      raw[i] = text[(i + r.nextInt(3)) % text.length];
    }
    copy = new byte[size];
    directRaw = ByteBuffer.allocateDirect(size).put(raw).flip();
    scratch = ByteBuffer.allocateDirect(size);
  }

  @Benchmark
  public EncodedChunk crcAndZstd() {
    return EncodedChunk.encode(0, directRaw, Codec.ZSTD, scratch);
  }

  @Benchmark
  public long crcOnly() {
    CRC32C c = new CRC32C();
    c.update(directRaw.duplicate());
    return c.getValue();
  }

  @Benchmark
  public byte[] arraycopy() {
    System.arraycopy(raw, 0, copy, 0, size);
    return copy;
  }
}
