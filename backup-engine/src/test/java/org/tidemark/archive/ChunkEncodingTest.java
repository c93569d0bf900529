package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How a chunk is encoded: chunks of zeroes found exactly (one non-zero byte anywhere, the last
 * included, makes a chunk data) and stored as the codec's shared encoding of zeroes, decoding to the
 * guest bytes with the CRC-32C of them; and the probe that stores a chunk that would shrink by less
 * than 3 % as it is, without compressing it whole, while a chunk with a compressible part is
 * compressed. Seeded: lengths, positions and buffer kinds vary with the seed.
 */
class ChunkEncodingTest {

  static Stream<Integer> seeds() {
    return IntStream.rangeClosed(1, 12).boxed();
  }

  private static ByteBuffer buffer(byte[] bytes, boolean direct) {
    return direct ? ByteBuffer.allocateDirect(bytes.length).put(bytes).flip() : ByteBuffer.wrap(bytes);
  }

  private static int crc(byte[] bytes) {
    CRC32C c = new CRC32C();
    c.update(bytes);
    return (int) c.getValue();
  }

  private static byte[] decoded(EncodedChunk c) throws Exception {
    ByteBuffer out = ByteBuffer.allocate(c.rawLength());
    // as a reader has them: read from the archive into a buffer of its own
    ByteBuffer stored = ByteBuffer.allocate(c.storedLength()).put(c.stored()).flip();
    c.codec().decode(stored, out, c.rawLength());
    return out.array();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void aChunkOfZeroesIsStoredSharedAndOneNonZeroByteMakesItData(int seed) throws Exception {
    Random r = new Random(seed);
    // lengths past the 1 MiB comparison slice too, and not multiples of it
    int length = 1 + r.nextInt(seed % 3 == 0 ? 3 << 20 : 8192);
    boolean direct = r.nextBoolean();
    Codec codec = r.nextBoolean() ? Codec.ZSTD : Codec.DEFLATE;
    byte[] zeros = new byte[length];
    EncodedChunk a = EncodedChunk.encode(7, buffer(zeros, direct), codec, ByteBuffer.allocateDirect(length + 64));
    EncodedChunk b = EncodedChunk.encode(9, buffer(zeros, direct), codec, ByteBuffer.allocateDirect(length + 64));
    assertTrue(ZeroChunks.isZero(buffer(zeros, direct)));
    assertEquals(crc(zeros), a.crc32c());
    assertTrue(Arrays.equals(zeros, decoded(a)));
    if (length > 64) {
      assertEquals(codec, a.codec());
      // the stored bytes are the shared encoding, not a fresh compression into the scratch buffer
      assertFalse(a.stored().isDirect(), "stored in the caller's scratch buffer");
      assertEquals(a.stored(), b.stored());
    }
    for (int at : new int[] {length - 1, 0, r.nextInt(length)}) {
      byte[] one = new byte[length];
      one[at] = (byte) (1 + r.nextInt(255));
      assertFalse(ZeroChunks.isZero(buffer(one, direct)), "non-zero byte at " + at + " of " + length);
      EncodedChunk c = EncodedChunk.encode(0, buffer(one, direct), codec,
          direct ? ByteBuffer.allocateDirect(length + 64) : ByteBuffer.allocate(length + 64));
      assertEquals(crc(one), c.crc32c(), "at " + at);
      assertTrue(Arrays.equals(one, decoded(c)), "at " + at);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void theProbeStoresWhatBarelyShrinksAndCompressesWhatHasACompressiblePart(int seed) throws Exception {
    Random r = new Random(seed);
    int length = Codec.PROBE_MIN + r.nextInt(4 << 20 - Codec.PROBE_MIN);
    byte[] bytes = new byte[length];
    r.nextBytes(bytes);
    // 1 % text-like bytes in one place: the whole would shrink a little, less than the probe asks
    int at = r.nextInt(length - length / 100);
    for (int i = at; i < at + length / 100; i++) {
      bytes[i] = (byte) "the quick brown fox jumps over the lazy dog\n".charAt(i % 44);
    }
    EncodedChunk barely = EncodedChunk.encode(0, ByteBuffer.wrap(bytes), Codec.ZSTD, ByteBuffer.allocate(length));
    assertEquals(Codec.NONE, barely.codec());
    assertTrue(Arrays.equals(bytes, decoded(barely)));
    // a quarter text-like, where it falls: compressed whole
    int quarter = r.nextInt(length - length / 4);
    for (int i = quarter; i < quarter + length / 4; i++) {
      bytes[i] = (byte) "the quick brown fox jumps over the lazy dog\n".charAt(i % 44);
    }
    EncodedChunk mixed = EncodedChunk.encode(0, ByteBuffer.wrap(bytes), Codec.ZSTD, ByteBuffer.allocate(length));
    assertEquals(Codec.ZSTD, mixed.codec());
    assertTrue(mixed.storedLength() < length * 0.8, mixed.storedLength() + " of " + length);
    assertTrue(Arrays.equals(bytes, decoded(mixed)));
    assertEquals(crc(bytes), mixed.crc32c());
  }
}
