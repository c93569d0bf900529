package org.tidemark.archive;

/**
 * A guest range of a restored disk and where its bytes come from.
 *
 * @param offset first guest byte
 * @param length bytes
 * @param source index of the archive in the chain (0 = newest) holding the bytes; -1 for zeros
 * @param chunk the chunk holding the bytes, {@code null} for zeros; the range starts
 *     {@code offset - chunk.offset()} bytes into the chunk's raw data
 */
public record RestorePiece(long offset, long length, int source, ChunkRecord chunk) {
  /** Whether the range reads as zeros. */
  public boolean zero() {
    return chunk == null;
  }

  /** One past the last guest byte. */
  public long end() {
    return offset + length;
  }
}
