package org.tidemark.archive;

import java.util.zip.CRC32C;

/**
 * A chunk compressed and checksummed, ready for {@link ArchiveWriter#writeChunk}. Made by {@link
 * #encode}, which is thread-safe: a pipeline encodes on worker threads and writes in order.
 *
 * <p>The stored bytes are {@code stored[0..storedLength)}. They are not copied: they live in the
 * buffer the chunk was encoded into, or, for a chunk stored as it is, in the raw buffer itself. A
 * caller that reuses its buffers must not touch them until the chunk has been written.
 *
 * @param offset guest offset of the chunk's first byte
 * @param rawLength guest bytes in the chunk
 * @param codec how the stored bytes are encoded
 * @param crc32c CRC-32C of the raw bytes
 * @param stored the buffer holding the stored bytes from index 0
 * @param storedLength how many bytes of {@code stored} the chunk is
 */
public record EncodedChunk(long offset, int rawLength, Codec codec, int crc32c, byte[] stored, int storedLength) {

  /** Checks the lengths against the buffer and the chunk limit. */
  public EncodedChunk {
    if (rawLength <= 0 || rawLength > ArchiveWriter.MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length: " + rawLength + " (expected: 0 < length <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    if (storedLength < 0 || storedLength > stored.length) {
      throw new IllegalArgumentException("stored length " + storedLength + " outside a buffer of " + stored.length);
    }
  }

  /**
   * Checksums and compresses {@code raw[0..length)} holding the guest bytes at {@code offset}, into a
   * new buffer. Stores the chunk uncompressed, in {@code raw} itself, when compression does not make
   * it smaller.
   */
  public static EncodedChunk encode(long offset, byte[] raw, int length, Codec codec) {
    return encode(offset, raw, length, codec, new byte[Math.max(0, length - 1)]);
  }

  /**
   * As {@link #encode(long, byte[], int, Codec)}, compressing into {@code scratch}, a buffer the
   * caller reuses once the chunk is written. A scratch of {@code length - 1} bytes is always large
   * enough: an encoding that does not fit would not be smaller than the raw bytes.
   */
  public static EncodedChunk encode(long offset, byte[] raw, int length, Codec codec, byte[] scratch) {
    if (length <= 0 || length > ArchiveWriter.MAX_CHUNK || length > raw.length) {
      throw new IllegalArgumentException("chunk length: " + length + " (expected: 0 < length <= "
          + Math.min(raw.length, ArchiveWriter.MAX_CHUNK) + ")");
    }
    CRC32C crc = new CRC32C();
    crc.update(raw, 0, length);
    int n = codec.encode(raw, length, scratch);
    return n < 0
        ? new EncodedChunk(offset, length, Codec.NONE, (int) crc.getValue(), raw, length)
        : new EncodedChunk(offset, length, codec, (int) crc.getValue(), scratch, n);
  }
}
