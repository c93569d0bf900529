package org.tidemark.archive;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
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
  /** Zstandard, level 3 (the default: fast, good ratio). */
  ZSTD("zst"),
  /** Deflate (zlib format), level 6: for readers without zstd. */
  DEFLATE("zz");

  private static final int ZSTD_LEVEL = 3;
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

  /** Compresses {@code length} bytes of {@code raw} from index 0. */
  /**
   * Encodes {@code raw[0..length)} into {@code out}, when the encoding is smaller than the raw bytes
   * and fits in {@code out}.
   *
   * @return the encoded length, or -1 when the chunk is better stored as it is (codec {@link
   *     #NONE}, incompressible bytes, or {@code out} too small)
   */
  int encode(byte[] raw, int length, byte[] out) {
    int capacity = Math.min(out.length, length - 1);
    if (capacity <= 0) {
      return -1;
    }
    return switch (this) {
      case NONE -> -1;
      case ZSTD -> {
        try {
          yield ZSTD_CONTEXT.get().compressByteArray(out, 0, capacity, raw, 0, length);
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
          d.setInput(raw, 0, length);
          d.finish();
          int n = 0;
          while (!d.finished() && n < capacity) {
            n += d.deflate(out, n, capacity - n);
          }
          yield d.finished() ? n : -1;
        } finally {
          d.end();
        }
      }
    };
  }

  void decode(byte[] stored, int storedLength, byte[] dst, int rawLength) throws DataFormatException {
    switch (this) {
      case NONE -> {
        if (storedLength != rawLength) {
          throw new DataFormatException("stored " + storedLength + " bytes, expected " + rawLength);
        }
        System.arraycopy(stored, 0, dst, 0, rawLength);
      }
      case ZSTD -> {
        int n;
        try {
          n = ZSTD_DECOMPRESS_CONTEXT.get().decompressByteArray(dst, 0, rawLength, stored, 0, storedLength);
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
          inf.setInput(stored, 0, storedLength);
          int n = 0;
          while (n < rawLength && !inf.finished()) {
            int k = inf.inflate(dst, n, rawLength - n);
            if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
              break;
            }
            n += k;
          }
          if (n != rawLength || !inf.finished()) {
            throw new DataFormatException("deflate decoded " + n + " bytes, expected " + rawLength);
          }
        } finally {
          inf.end();
        }
      }
    }
  }
}
