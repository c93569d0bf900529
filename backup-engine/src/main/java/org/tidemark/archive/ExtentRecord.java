package org.tidemark.archive;

/**
 * A guest range a disk entry of an archive covers.
 *
 * @param offset first guest byte
 * @param length length in bytes, positive
 * @param zero {@code true} when the range reads as zeros (stored as no data); {@code false} when
 *     its bytes are in the archive's chunks
 */
public record ExtentRecord(long offset, long length, boolean zero) {
  /** Checks the range. */
  public ExtentRecord {
    if (offset < 0 || length <= 0 || offset + length < 0) {
      throw new IllegalArgumentException("extent [" + offset + ", +" + length + ") is not a valid range");
    }
  }

  /** One past the last guest byte. */
  public long end() {
    return offset + length;
  }
}
