package org.tidemark.disk;

/**
 * A guest range of a disk.
 *
 * @param offset first guest byte
 * @param length bytes, positive
 * @param zero whether the guest reads zeros there (unallocated or a zero cluster)
 */
public record Extent(long offset, long length, boolean zero) {
  /** Checks the range. */
  public Extent {
    if (offset < 0 || length <= 0 || offset + length < 0) {
      throw new IllegalArgumentException("extent [" + offset + ", +" + length + ") is not a valid range");
    }
  }

  /** One past the last guest byte. */
  public long end() {
    return offset + length;
  }
}
