package org.tidemark.archive;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32C;

/**
 * Chunks whose guest bytes are all zeroes (allocated clusters a guest zeroed): found with a
 * vectorized comparison, and stored as the codec's encoding of that many zeroes, made once per codec
 * and length and then shared, so such a chunk is neither compressed nor checksummed again, and
 * writes a few hundred bytes (zstd) instead of its length. The stored chunk is an ordinary chunk of
 * its codec: readers of every format version decode it. Thread-safe.
 */
final class ZeroChunks {
  /** Compared against in slices; read-only and shared. */
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();
  /** Distinct lengths kept at most (chunk lengths are few: the chunk size and extent tails). */
  private static final int CACHED = 256;
  private static final Map<Long, EncodedZeros> CACHE = new ConcurrentHashMap<>();

  /** A run of zeroes encoded with a codec: the stored bytes (read-only) and the CRC-32C of the raw ones. */
  record EncodedZeros(Codec codec, int crc32c, ByteBuffer stored) {}

  private ZeroChunks() {}

  /** True when every remaining byte of {@code raw} is zero; its position does not move. */
  static boolean isZero(ByteBuffer raw) {
    for (int at = raw.position(); at < raw.limit(); at += ZEROS.capacity()) {
      int n = Math.min(ZEROS.capacity(), raw.limit() - at);
      if (raw.slice(at, n).mismatch(ZEROS.slice(0, n)) >= 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code length} zeroes encoded with {@code codec} (stored as they are when the codec does not
   * make them smaller, which only {@link Codec#NONE} does).
   */
  static EncodedZeros encoded(Codec codec, int length) {
    long key = ((long) codec.ordinal() << 32) | length;
    EncodedZeros cached = CACHE.get(key);
    if (cached != null) {
      return cached;
    }
    EncodedZeros z = encode(codec, length);
    if (CACHE.size() < CACHED) {
      CACHE.putIfAbsent(key, z);
    }
    return z;
  }

  private static EncodedZeros encode(Codec codec, int length) {
    ByteBuffer raw = ByteBuffer.allocate(length);
    CRC32C crc = new CRC32C();
    crc.update(raw.duplicate());
    ByteBuffer out = ByteBuffer.allocate(length - 1);
    int n = codec.encode(raw, out);
    return n < 0
        ? new EncodedZeros(Codec.NONE, (int) crc.getValue(), raw.asReadOnlyBuffer())
        : new EncodedZeros(codec, (int) crc.getValue(), ByteBuffer.wrap(out.array(), 0, n).slice().asReadOnlyBuffer());
  }
}
