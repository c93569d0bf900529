package org.tidemark.archive;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
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
  byte[] encode(byte[] raw, int length) {
    return switch (this) {
      case NONE -> Arrays.copyOf(raw, length);
      case ZSTD -> {
        byte[] out = new byte[(int) Zstd.compressBound(length)];
        long n = Zstd.compressByteArray(out, 0, out.length, raw, 0, length, ZSTD_LEVEL);
        if (Zstd.isError(n)) {
          throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        yield Arrays.copyOf(out, (int) n);
      }
      case DEFLATE -> {
        Deflater d = new Deflater(6);
        try {
          d.setInput(raw, 0, length);
          d.finish();
          ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, length / 2));
          byte[] buf = new byte[64 * 1024];
          while (!d.finished()) {
            out.write(buf, 0, d.deflate(buf));
          }
          yield out.toByteArray();
        } finally {
          d.end();
        }
      }
    };
  }

  /**
   * Decompresses {@code stored} into {@code dst[0..rawLength)}.
   *
   * @throws DataFormatException when the stored bytes do not decode to exactly {@code rawLength} bytes
   */
  void decode(byte[] stored, int storedLength, byte[] dst, int rawLength) throws DataFormatException {
    switch (this) {
      case NONE -> {
        if (storedLength != rawLength) {
          throw new DataFormatException("stored " + storedLength + " bytes, expected " + rawLength);
        }
        System.arraycopy(stored, 0, dst, 0, rawLength);
      }
      case ZSTD -> {
        long n = Zstd.decompressByteArray(dst, 0, rawLength, stored, 0, storedLength);
        if (Zstd.isError(n)) {
          throw new DataFormatException("zstd: " + Zstd.getErrorName(n));
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
