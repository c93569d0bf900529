package org.tidemark.bench;

import com.github.luben.zstd.ZstdCompressCtx;
import java.nio.ByteBuffer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.archive.Codec;
import org.tidemark.archive.EncodedChunk;

/**
 * The chunk stage by kind of guest data ({@link GuestData}; {@code MIX} is a 4 MiB chunk of 1 MiB
 * pieces random, text, zero, random): stage {@code encode}, {@link EncodedChunk#encode} as the
 * backup runs it (zero chunks found and shared, incompressible chunks told by a probe, zstd at the
 * archive's level), against its baseline {@code before}, the stage before 2026-12-05 (CRC-32C and
 * zstd level 3 over every chunk), run next to it for each kind (JMH orders the trials by kind, then
 * stage), so that the pair sees the same load. Score: chunks of 4 MiB per second; the setup prints
 * the stored size as {@code stored KIND STAGE bytes}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public class ChunkKindBenchmark {
  private static final int SIZE = 4 << 20;

  @Param({"RANDOM", "WORDS", "TEXT", "ZERO", "MIX"})
  String kind;

  @Param({"before", "encode"})
  String stage;

  ByteBuffer raw;
  ByteBuffer scratch;
  ZstdCompressCtx level3;

  @Setup
  public void setup() {
    byte[] bytes;
    if (kind.equals("MIX")) {
      bytes = new byte[SIZE];
      GuestData.Kind[] pieces = {GuestData.Kind.RANDOM, GuestData.Kind.TEXT, GuestData.Kind.ZERO, GuestData.Kind.RANDOM};
      for (int i = 0; i < pieces.length; i++) {
        System.arraycopy(GuestData.make(pieces[i], SIZE / 4, i), 0, bytes, i * SIZE / 4, SIZE / 4);
      }
    } else {
      bytes = GuestData.make(GuestData.Kind.valueOf(kind), SIZE, 42);
    }
    raw = ByteBuffer.allocateDirect(SIZE).put(bytes).flip();
    scratch = ByteBuffer.allocateDirect(SIZE);
    level3 = new ZstdCompressCtx().setLevel(3).setChecksum(false);
    System.out.printf("%nstored %s %s %d%n", kind, stage, stage.equals("encode") ? encode().storedLength() : before());
  }

  @TearDown
  public void close() {
    level3.close();
  }

  @Benchmark
  public Object stage() {
    return stage.equals("encode") ? encode() : (Object) before();
  }

  private EncodedChunk encode() {
    return EncodedChunk.encode(0, raw, Codec.ZSTD, scratch);
  }

  /** The stage before: CRC-32C, then zstd level 3 over the whole chunk (stored raw when not smaller). */
  private int before() {
    CRC32C crc = new CRC32C();
    crc.update(raw.duplicate());
    try {
      return level3.compressDirectByteBuffer(scratch, 0, SIZE - 1, raw, 0, SIZE) + (int) crc.getValue() * 0;
    } catch (com.github.luben.zstd.ZstdException e) {
      return SIZE;
    }
  }
}
