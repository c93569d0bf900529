package org.tidemark.archive;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The index of a version 2 archive, {@code index.bin}: a {@value ArchiveLimits#INDEX_HEADER}-byte
 * header and one {@value ArchiveLimits#INDEX_RECORD}-byte record per chunk, in archive order, all
 * numbers big-endian:
 *
 * <pre>
 * header  magic "TMINDEX2" (8 bytes), u32 record size (24), u32 record count
 * record  u64 guest offset, u32 raw length, u32 stored length, u32 CRC-32C of the raw bytes,
 *         u16 disk (its position in the manifest's disks), u8 codec (0 none, 1 zstd, 2 deflate),
 *         u8 zero
 * </pre>
 *
 * <p>A chunk's data offset is not stored: it follows from the layout (each chunk entry's header,
 * the alignment of large chunks, the padding), which the reader walks anyway. Records are decoded
 * straight into {@link ChunkRecord}s, with no tree in between.
 */
final class BinaryIndex {
  static final byte[] MAGIC = "TMINDEX2".getBytes(StandardCharsets.US_ASCII);
  /** The codecs by their number in a record. */
  private static final Codec[] CODECS = {Codec.NONE, Codec.ZSTD, Codec.DEFLATE};
  /** Records per block of the writer's buffer. */
  private static final int BLOCK_RECORDS = 1 << 15;

  private BinaryIndex() {}

  static int codecNumber(Codec codec) {
    for (int i = 0; i < CODECS.length; i++) {
      if (CODECS[i] == codec) {
        return i;
      }
    }
    throw new IllegalArgumentException("codec " + codec);
  }

  /** The header of an index of {@code count} records. */
  static ByteBuffer header(int count) {
    return ByteBuffer.allocate(ArchiveLimits.INDEX_HEADER).put(MAGIC).putInt(ArchiveLimits.INDEX_RECORD).putInt(count)
        .flip();
  }

  /** Why {@code header} is not that of an index of {@code count} records, or null. */
  static String headerProblem(ByteBuffer header, int count) {
    byte[] magic = new byte[MAGIC.length];
    header.get(header.position(), magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      return "magic '" + new String(magic, StandardCharsets.ISO_8859_1).replaceAll("\\p{Cntrl}", "?")
          + "' (expected 'TMINDEX2')";
    }
    int size = header.getInt(header.position() + 8);
    int n = header.getInt(header.position() + 12);
    if (size != ArchiveLimits.INDEX_RECORD || n != count) {
      return "record size " + size + ", count " + n + " (expected " + ArchiveLimits.INDEX_RECORD + " and the seal's "
          + count + ")";
    }
    return null;
  }

  /**
   * Decodes the record at {@code b}'s position (which moves past it) into a chunk whose data is
   * at {@code dataOffset}, or throws with what is wrong.
   */
  static ChunkRecord decode(ByteBuffer b, Manifest manifest, long dataOffset) throws BadRecord {
    long offset = b.getLong();
    int raw = b.getInt();
    int stored = b.getInt();
    int crc = b.getInt();
    int disk = b.getShort() & 0xffff;
    int codec = b.get() & 0xff;
    int zero = b.get() & 0xff;
    if (disk >= manifest.disks().size()) {
      throw new BadRecord("disk number " + disk + " (the manifest has " + manifest.disks().size() + " disks)");
    }
    if (codec >= CODECS.length || zero != 0) {
      throw new BadRecord("codec number " + codec + ", last byte " + zero + " (expected 0 to " + (CODECS.length - 1)
          + ", and 0)");
    }
    return new ChunkRecord(manifest.disks().get(disk).name(), offset, raw, stored, CODECS[codec], crc, dataOffset);
  }

  /** A record that cannot be a chunk of the archive. */
  static final class BadRecord extends Exception {
    private static final long serialVersionUID = 1L;

    BadRecord(String message) {
      super(message);
    }
  }

  /** The records a writer has added so far, in blocks (no copy of the whole as it grows). */
  static final class Builder {
    private final List<ByteBuffer> blocks = new ArrayList<>();
    private int count;

    int count() {
      return count;
    }

    void add(int disk, long offset, int raw, int stored, Codec codec, int crc) {
      if (count % BLOCK_RECORDS == 0) {
        blocks.add(ByteBuffer.allocate(BLOCK_RECORDS * ArchiveLimits.INDEX_RECORD));
      }
      blocks.get(blocks.size() - 1).putLong(offset).putInt(raw).putInt(stored).putInt(crc).putShort((short) disk)
          .put((byte) codecNumber(codec)).put((byte) 0);
      count++;
    }

    /** The header and the records, as buffers to write in order. */
    ByteBuffer[] buffers() {
      ByteBuffer[] out = new ByteBuffer[blocks.size() + 1];
      out[0] = header(count);
      for (int i = 0; i < blocks.size(); i++) {
        out[i + 1] = blocks.get(i).duplicate().flip();
      }
      return out;
    }
  }
}
