package org.tidemark.archive;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * A chunk compressed and checksummed, ready for {@link ArchiveWriter#writeChunk}. Made by {@link
 * #encode}, which is thread-safe: a pipeline encodes on worker threads and writes in order.
 *
 * <p>The stored bytes are not copied: they live in the buffer the chunk was encoded into, or, for
 * a chunk stored as it is, in the raw buffer itself. A caller that reuses its buffers must not
 * touch them until the chunk has been written. Direct buffers go from the source image through
 * the compressor to the archive file without passing through the Java heap.
 *
 * @param offset guest offset of the chunk's first byte
 * @param rawLength guest bytes in the chunk
 * @param codec how the stored bytes are encoded
 * @param crc32c CRC-32C of the raw bytes
 * @param stored the stored bytes: a read-only view whose remaining bytes are the chunk
 */
public record EncodedChunk(long offset, int rawLength, Codec codec, int crc32c, ByteBuffer stored) {

  /** Checks the lengths against the chunk limit, and takes a read-only view of the stored bytes. */
  public EncodedChunk {
    if (rawLength <= 0 || rawLength > ArchiveWriter.MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length: " + rawLength + " (expected: 0 < length <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    stored = stored.asReadOnlyBuffer();
  }

  /** How many bytes the chunk takes in the archive. */
  public int storedLength() {
    return stored.remaining();
  }

  /** The stored bytes as a new read-only view (the record's own view is never consumed). */
  @Override
  public ByteBuffer stored() {
    return stored.duplicate();
  }

  /**
   * Checksums and compresses {@code raw[0..length)} holding the guest bytes at {@code offset}, into a
   * new buffer. Stores the chunk uncompressed, in {@code raw} itself, when compression does not make
   * it smaller.
   */
  public static EncodedChunk encode(long offset, byte[] raw, int length, Codec codec) {
    if (length <= 0 || length > raw.length) {
      throw new IllegalArgumentException("chunk length: " + length + " (expected: 0 < length <= " + raw.length + ")");
    }
    return encode(offset, ByteBuffer.wrap(raw, 0, length), codec, ByteBuffer.allocate(length - 1));
  }

  /**
   * Checksums and compresses the remaining bytes of {@code raw} (the guest bytes at {@code offset})
   * into {@code scratch} from its position, a buffer the caller reuses once the chunk is written.
   * Stores the chunk as it is, as a view of {@code raw}, when compression does not make it smaller.
   * A scratch with {@code length - 1} bytes remaining is always large enough: an encoding that does
   * not fit would not be smaller than the raw bytes. The buffers are both direct or both heap
   * buffers; neither position moves. A chunk of zeroes (with a codec other than {@link Codec#NONE})
   * is neither checksummed nor compressed: its stored bytes are the codec's encoding of that many
   * zeroes, shared between such chunks ({@link ZeroChunks}).
   */
  public static EncodedChunk encode(long offset, ByteBuffer raw, Codec codec, ByteBuffer scratch) {
    int length = raw.remaining();
    if (length <= 0 || length > ArchiveWriter.MAX_CHUNK) {
      throw new IllegalArgumentException(
          "chunk length: " + length + " (expected: 0 < length <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    if (codec != Codec.NONE && ZeroChunks.isZero(raw)) {
      ZeroChunks.EncodedZeros z = ZeroChunks.encoded(codec, length);
      return new EncodedChunk(offset, length, z.codec(), z.crc32c(), z.stored());
    }
    CRC32C crc = new CRC32C();
    crc.update(raw.duplicate());
    int n = codec.encode(raw, scratch);
    return n < 0
        ? new EncodedChunk(offset, length, Codec.NONE, (int) crc.getValue(), raw.duplicate())
        : new EncodedChunk(offset, length, codec, (int) crc.getValue(), scratch.duplicate().limit(scratch.position() + n));
  }
}
