package org.tidemark.archive;

/** The archive fuzzer's resealing, for the command line's tests of hostile archives. */
public final class Resealed {
  private Resealed() {}

  /** {@code bytes} with the seal's SHA-256 recomputed over its metadata entries, or null. */
  public static byte[] reseal(byte[] bytes) {
    return ArchiveReaderFuzzTest.reseal(bytes);
  }
}
