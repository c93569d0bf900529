package org.tidemark.archive;

/**
 * A chunk compressed and checksummed, ready for {@link ArchiveWriter#writeChunk}. Made by {@link
 * #encode}, which is thread-safe: a pipeline encodes on worker threads and writes in order.
 *
 * @param offset guest offset of the chunk's first byte
 * @param rawLength guest bytes in the chunk
 * @param codec how {@code stored} is encoded
 * @param crc32c CRC-32C of the raw bytes
 * @param stored the encoded bytes (owned by this record; not copied)
 */
public record EncodedChunk(long offset, int rawLength, Codec codec, int crc32c, byte[] stored) {

  /**
   * Checksums and compresses {@code raw[0..length)} holding the guest bytes at {@code offset}.
   * Stores the chunk uncompressed when compression does not make it smaller.
   */
  public static EncodedChunk encode(long offset, byte[] raw, int length, Codec codec) {
    if (length <= 0 || length > ArchiveWriter.MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length: " + length + " (expected: 0 < length <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(raw, 0, length);
    byte[] stored = codec.encode(raw, length);
    Codec used = codec;
    if (codec != Codec.NONE && stored.length >= length) {
      stored = Codec.NONE.encode(raw, length);
      used = Codec.NONE;
    }
    return new EncodedChunk(offset, length, used, (int) crc.getValue(), stored);
  }
}
