package org.tidemark.archive;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * How a chunk's bytes are stored. Every chunk is compressed on its own, so chunks can be read and
 * checked independently and in parallel. Thread-safe.
 */
public enum Codec {
  /** Stored as is. */
  NONE("raw"),
  /**
   * Zstandard, level 1 (the default: at the write speed of a disk on text, and a ratio within 15 %
   * of level 3's; level 3 until 2026-12-05, see docs/performance.md).
   */
  ZSTD("zst"),
  /** Deflate (zlib format), level 6: for readers without zstd. */
  DEFLATE("zz");

  private static final int ZSTD_LEVEL = 1;
  /** Chunks this long or longer are probed before they are compressed ({@link #looksIncompressible}). */
  static final int PROBE_MIN = 256 << 10;
  /** The probe compresses this many samples of {@value #SAMPLE} bytes, spread evenly over the chunk. */
  static final int SAMPLES = 16;
  static final int SAMPLE = 4096;
  /** Room for a sample's encoding: more than zstd's or deflate's bound for {@value #SAMPLE} bytes. */
  private static final int SAMPLE_ROOM = 2 * SAMPLE;
  /** One compression context per thread, reused: creating one per chunk costs more than it saves. */
  private static final ThreadLocal<ZstdCompressCtx> ZSTD_CONTEXT =
      ThreadLocal.withInitial(() -> new ZstdCompressCtx().setLevel(ZSTD_LEVEL).setChecksum(false));
  private static final ThreadLocal<ZstdDecompressCtx> ZSTD_DECOMPRESS_CONTEXT =
      ThreadLocal.withInitial(ZstdDecompressCtx::new);
  private final String extension;

  Codec(String extension) {
    this.extension = extension;
  }

  /** The name written in the manifest and accepted on the command line: {@code none}, {@code zstd}, {@code deflate}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The file-name extension of a chunk entry stored with this codec. */
  public String extension() {
    return extension;
  }

  /** The codec with the given {@link #id()}; {@code IllegalArgumentException} names the known ones. */
  public static Codec fromId(String id) {
    for (Codec c : values()) {
      if (c.id().equals(id)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown codec '" + id + "' (expected: none, zstd, deflate)");
  }

  /**
   * Encodes the remaining bytes of {@code raw} into {@code out} from its position, when the
   * encoding is smaller than the raw bytes and fits in {@code out}'s remaining space. Neither
   * buffer's position moves. Both buffers are direct, or both are backed by arrays: the bytes are
   * then passed to the native compressor without a copy.
   *
   * @return the encoded length, or -1 when the chunk is better stored as it is (codec {@link
   *     #NONE}, incompressible bytes, or {@code out} too small)
   */
  int encode(ByteBuffer raw, ByteBuffer out) {
    int length = raw.remaining();
    if (this == NONE || length >= PROBE_MIN && looksIncompressible(raw, out)) {
      return -1;
    }
    return encode(raw, out, Math.min(out.remaining(), length - 1));
  }

  /**
   * True when the chunk would shrink by less than 3 %, judged from {@value #SAMPLES} samples of
   * {@value #SAMPLE} bytes spread evenly over it, each encoded on its own into {@code out} (about
   * 1.5 % of a 4 MiB chunk's work): random bytes (compressed or encrypted files) then cost the
   * samples, not a whole compression that would be thrown away. A chunk of which more than about
   * one sample in 30 compresses well is compressed whole.
   */
  private boolean looksIncompressible(ByteBuffer raw, ByteBuffer out) {
    int length = raw.remaining();
    long stored = 0;
    for (int i = 0; i < SAMPLES; i++) {
      int at = raw.position() + (int) ((long) (length - SAMPLE) * i / (SAMPLES - 1));
      ByteBuffer sample = raw.duplicate().position(at).limit(at + SAMPLE);
      // room for the sample's encoding even when it grows (random bytes): a compressor that runs out
      // of room fails with an exception (zstd-jni), 16 per chunk of a random disk
      int n = encode(sample, out, Math.min(out.remaining(), SAMPLE_ROOM));
      stored += n < 0 ? SAMPLE : Math.min(n, SAMPLE);
    }
    return stored * 100 >= (long) SAMPLES * SAMPLE * 97;
  }

  /** Encodes {@code raw} into at most {@code capacity} bytes of {@code out}; -1 when they do not suffice. */
  private int encode(ByteBuffer raw, ByteBuffer out, int capacity) {
    int length = raw.remaining();
    if (capacity <= 0) {
      return -1;
    }
    return switch (this) {
      case NONE -> -1;
      case ZSTD -> {
        ZstdCompressCtx ctx = ZSTD_CONTEXT.get();
        try {
          yield sameKind(raw, out)
              ? ctx.compressDirectByteBuffer(out, out.position(), capacity, raw, raw.position(), length)
              : ctx.compressByteArray(out.array(), out.arrayOffset() + out.position(), capacity,
                  raw.array(), raw.arrayOffset() + raw.position(), length);
        } catch (ZstdException e) {
          if (e.getErrorCode() == Zstd.errDstSizeTooSmall()) {
            yield -1;
          }
          throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
      }
      case DEFLATE -> {
        Deflater d = new Deflater(6);
        try {
          d.setInput(raw.duplicate());
          d.finish();
          ByteBuffer target = out.duplicate();
          target.limit(target.position() + capacity);
          while (!d.finished() && target.hasRemaining()) {
            d.deflate(target);
          }
          yield d.finished() ? target.position() - out.position() : -1;
        } finally {
          d.end();
        }
      }
    };
  }

  /**
   * Decodes the remaining bytes of {@code stored} into {@code dst[position, position + rawLength)};
   * neither buffer's position moves. Both buffers are direct, or both backed by arrays.
   *
   * @throws DataFormatException when the bytes do not decode to exactly {@code rawLength} bytes
   */
  void decode(ByteBuffer stored, ByteBuffer dst, int rawLength) throws DataFormatException {
    int storedLength = stored.remaining();
    if (dst.remaining() < rawLength) {
      throw new IllegalArgumentException("dst has " + dst.remaining() + " bytes left, the chunk " + rawLength);
    }
    switch (this) {
      case NONE -> {
        if (storedLength != rawLength) {
          throw new DataFormatException("stored " + storedLength + " bytes, expected " + rawLength);
        }
        dst.duplicate().put(stored.duplicate());
      }
      case ZSTD -> {
        int n;
        ZstdDecompressCtx ctx = ZSTD_DECOMPRESS_CONTEXT.get();
        try {
          n = sameKind(stored, dst)
              ? ctx.decompressDirectByteBuffer(dst, dst.position(), rawLength, stored, stored.position(), storedLength)
              : ctx.decompressByteArray(dst.array(), dst.arrayOffset() + dst.position(), rawLength,
                  stored.array(), stored.arrayOffset() + stored.position(), storedLength);
        } catch (ZstdException e) {
          throw new DataFormatException("zstd: " + e.getMessage());
        }
        if (n != rawLength) {
          throw new DataFormatException("zstd decoded " + n + " bytes, expected " + rawLength);
        }
      }
      case DEFLATE -> {
        Inflater inf = new Inflater();
        try {
          inf.setInput(stored.duplicate());
          ByteBuffer target = dst.duplicate();
          target.limit(target.position() + rawLength);
          while (target.hasRemaining() && !inf.finished()) {
            int k = inf.inflate(target);
            if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
              break;
            }
          }
          int n = target.position() - dst.position();
          if (n != rawLength || !inf.finished()) {
            throw new DataFormatException("deflate decoded " + n + " bytes, expected " + rawLength);
          }
        } finally {
          inf.end();
        }
      }
    }
  }

  /**
   * True when both buffers are direct (the native coder reads and writes them in place); false when
   * both are backed by accessible arrays.
   *
   * @throws IllegalArgumentException for a mix, or a read-only heap buffer
   */
  private static boolean sameKind(ByteBuffer a, ByteBuffer b) {
    if (a.isDirect() && b.isDirect()) {
      return true;
    }
    if (a.hasArray() && b.hasArray()) {
      return false;
    }
    throw new IllegalArgumentException("buffers must both be direct or both be writable heap buffers");
  }
}
