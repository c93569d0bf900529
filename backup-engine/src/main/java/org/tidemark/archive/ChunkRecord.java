package org.tidemark.archive;

import java.util.Objects;

/**
 * Where one chunk of guest data is in an archive, and how to check it.
 *
 * @param disk the disk it belongs to
 * @param offset the guest offset of its first byte
 * @param rawLength its length in guest bytes
 * @param storedLength its length in the archive, compressed
 * @param codec the codec it is stored with (its {@link Codec#id()} in {@code index.json})
 * @param crc32c CRC-32C of the raw (guest) bytes
 * @param dataOffset the byte offset in the archive file where its stored bytes start
 */
public record ChunkRecord(
    String disk, long offset, int rawLength, int storedLength, Codec codec, int crc32c, long dataOffset) {
  /** Checks the fields. */
  public ChunkRecord {
    Objects.requireNonNull(disk, "disk");
    Objects.requireNonNull(codec, "codec");
  }

  /** One past the last guest byte. */
  public long end() {
    return offset + rawLength;
  }
}
