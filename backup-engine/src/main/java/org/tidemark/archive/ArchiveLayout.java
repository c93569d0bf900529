package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.tidemark.archive.ArchiveException.Where;
import org.tidemark.store.StoreInput;

/**
 * Finds the four metadata entries of an archive without walking the headers of its chunks:
 * {@code checkpoint.xml} and {@code manifest.json} from the start of the file, {@code seal.json}
 * and the index from its end. Opening an archive then costs a few reads whatever its size,
 * instead of one read per chunk (262 144 for a full backup of a 1 TiB disk, each a seek on a cold
 * cache).
 *
 * <p>From the end, by the grammar of {@link ArchiveWriter}: the file is whole 512-byte records;
 * the last two are zeros; before them, the seal's data padded to a record; before that, the seal's
 * ustar header; before that, the index's data, padded with zeros, and its header. In format
 * version 2 the seal gives the length of {@code index.bin}, which places its header exactly
 * ({@link #binaryIndex}): binary data may hold any byte, so it is never searched. In version 1
 * ({@link #jsonIndex}) the index is JSON text, which holds no NUL byte, so the first record found
 * going back from the seal that starts with the NUL-terminated name {@code index.json} is the
 * index's header; its size must then end its data exactly at the seal's header. Every header read
 * is checked (checksum, name, regular file, size). Each error carries the entry and the file offset
 * of the header or data concerned as fields ({@link ArchiveException#where()}).
 *
 * <p>The chunk entries in between are not read here: the index, sealed with the other metadata,
 * says which chunks there are, {@link ArchiveReader} checks that they tile the space between the
 * manifest and the index exactly as the writer lays them out, and each chunk's data is checked
 * against its CRC-32C when read. {@link ArchiveVerifier} also reads every chunk's tar header.
 */
final class ArchiveLayout {
  private static final int RECORD = TarHeaders.RECORD;
  /** The longest seal data searched for, in records (the writer's is one). */
  private static final int MAX_SEAL_RECORDS = 16;
  /** How far back from the seal the index header is looked for at a time. */
  private static final int WINDOW = 256 << 10;

  /**
   * One metadata entry: where its header starts, where its data starts, its size, and its data
   * (null for an entry not read into memory: {@code index.bin}, which is streamed).
   */
  record Entry(long header, long dataOffset, long size, byte[] data) {
    Entry(long header, long dataOffset, byte[] data) {
      this(header, dataOffset, data.length, data);
    }

    /** The file offset just past the entry's padded data. */
    long end() {
      return dataOffset + TarHeaders.padded(size);
    }
  }

  private final Path path;
  private final StoreInput channel;
  final Entry checkpoint;
  final Entry manifest;
  final Entry seal;

  private ArchiveLayout(Path path, StoreInput channel, Entry checkpoint, Entry manifest, Entry seal) {
    this.path = path;
    this.channel = channel;
    this.checkpoint = checkpoint;
    this.manifest = manifest;
    this.seal = seal;
  }

  /** Reads the checkpoint, manifest and seal entries of the archive at {@code path}, open as {@code channel}. */
  static ArchiveLayout read(Path path, StoreInput channel) throws IOException {
    long size = channel.size();
    if (size % RECORD != 0) {
      throw new ArchiveCorruptException(path, Where.file(size - size % RECORD), "the file has " + size
          + " bytes, not a whole number of 512-byte tar records (cut short, or trailing data)");
    }
    if (size < 6L * RECORD) {
      throw new ArchiveCorruptException(path, Where.file(size), "incomplete archive: " + size + " bytes (a backup takes at least "
          + 6 * RECORD + ")");
    }
    Entry checkpoint = readEntry(path, channel, 0, ArchiveWriter.CHECKPOINT_ENTRY, size);
    Entry manifest = readEntry(path, channel, checkpoint.end(), ArchiveWriter.MANIFEST_ENTRY, size);
    byte[] tail = read(path, channel, size - 2 * RECORD, 2 * RECORD, null);
    for (int i = 0; i < tail.length; i++) {
      if (tail[i] != 0) {
        long at = size - 2 * RECORD + i;
        throw new ArchiveCorruptException(path, Where.file(at), "incomplete archive: the file does not end with tar's"
            + " two zero records (byte " + at + " is not zero: the backup did not finish, or the file was cut or"
            + " extended)");
      }
    }
    Entry seal = findSeal(path, channel, size, manifest.end());
    return new ArchiveLayout(path, channel, checkpoint, manifest, seal);
  }

  /**
   * The {@code index.bin} entry of a version 2 archive, whose seal says it has {@code length}
   * bytes: its header is the record that many bytes (padded) before the seal's header. Its data
   * is not read.
   */
  Entry binaryIndex(long length) throws IOException {
    long limit = ArchiveLimits.indexBytes(ArchiveLimits.MAX_CHUNKS);
    Where sealData = Where.entry(ArchiveWriter.SEAL_ENTRY, seal.dataOffset());
    if (length < ArchiveLimits.INDEX_HEADER || length > limit) {
      throw new ArchiveCorruptException(path, sealData, "the seal gives index.bin " + length + " bytes (expected "
          + ArchiveLimits.INDEX_HEADER + " to " + limit + ")");
    }
    long header = seal.header() - RECORD - TarHeaders.padded(length);
    if (header < manifest.end()) {
      throw new ArchiveCorruptException(path, sealData, "the seal gives index.bin " + length + " bytes, more than lie between "
          + "manifest.json and the seal (" + (seal.header() - manifest.end()) + " bytes)");
    }
    TarArchiveEntry e = parseHeader(path, read(path, channel, header, RECORD, ArchiveWriter.INDEX_ENTRY), header,
        ArchiveWriter.INDEX_ENTRY);
    if (e.getSize() != length) {
      throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.INDEX_ENTRY, header), "index.bin at " + header + " claims " + e.getSize()
          + " bytes, the seal " + length);
    }
    return new Entry(header, header + RECORD, length, null);
  }

  /** The {@code index.json} entry of a version 1 archive, found going back from the seal, with its data. */
  Entry jsonIndex() throws IOException {
    long sealHeader = seal.header();
    long floor = manifest.end();
    long limit = Math.max(floor, sealHeader - RECORD - TarHeaders.padded(ArchiveLimits.MAX_METADATA));
    long windowEnd = sealHeader;
    while (windowEnd > limit) {
      long windowStart = Math.max(limit, windowEnd - WINDOW);
      byte[] window = read(path, channel, windowStart, (int) (windowEnd - windowStart), ArchiveWriter.V1_INDEX_ENTRY);
      for (int at = window.length - RECORD; at >= 0; at -= RECORD) {
        if (startsWithName(window, at, ArchiveWriter.V1_INDEX_ENTRY)) {
          long header = windowStart + at;
          TarArchiveEntry e = parseHeader(path, java.util.Arrays.copyOfRange(window, at, at + RECORD), header,
              ArchiveWriter.V1_INDEX_ENTRY);
          if (header + RECORD + TarHeaders.padded(e.getSize()) != sealHeader) {
            throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.V1_INDEX_ENTRY, header), "index.json at "
                + header + " claims " + e.getSize()
                + " bytes, but the seal's header follows at " + sealHeader);
          }
          return new Entry(header, header + RECORD, read(path, channel, header + RECORD, (int) e.getSize(),
              ArchiveWriter.V1_INDEX_ENTRY));
        }
      }
      windowEnd = windowStart;
    }
    throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.V1_INDEX_ENTRY), "no index.json entry before the"
        + " seal at " + sealHeader);
  }

  private static Entry findSeal(Path path, StoreInput channel, long size, long floor) throws IOException {
    long end = size - 2 * RECORD; // where the seal's padded data ends
    int records = (int) Math.min(MAX_SEAL_RECORDS + 1, (end - floor) / RECORD);
    byte[] window = read(path, channel, end - (long) records * RECORD, records * RECORD, ArchiveWriter.SEAL_ENTRY);
    for (int k = 1; k < records; k++) {
      int at = window.length - (k + 1) * RECORD;
      if (startsWithName(window, at, ArchiveWriter.SEAL_ENTRY)) {
        long header = end - (long) (k + 1) * RECORD;
        TarArchiveEntry e = parseHeader(path, java.util.Arrays.copyOfRange(window, at, at + RECORD), header,
            ArchiveWriter.SEAL_ENTRY);
        if (TarHeaders.padded(e.getSize()) != (long) k * RECORD) {
          throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.SEAL_ENTRY, header), "seal.json at " + header + " claims " + e.getSize()
              + " bytes, but its data ends " + (long) k * RECORD + " bytes later, at the end of the archive");
        }
        return new Entry(header, header + RECORD, read(path, channel, header + RECORD, (int) e.getSize(),
            ArchiveWriter.SEAL_ENTRY));
      }
    }
    throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.SEAL_ENTRY), "incomplete archive: no seal.json"
        + " entry at the end"
        + " (the backup did not finish or the file was cut)");
  }

  /** The metadata entry whose header is at {@code at}, named {@code name}, with its data. */
  private static Entry readEntry(Path path, StoreInput channel, long at, String name, long size) throws IOException {
    if (at > size - RECORD) {
      throw new ArchiveCorruptException(path, Where.entry(name, at), "incomplete archive: no room for the header of "
          + name + " at " + at);
    }
    TarArchiveEntry e = parseHeader(path, read(path, channel, at, RECORD, name), at, name);
    if (at + RECORD + e.getSize() > size) {
      throw new ArchiveCorruptException(path, Where.entry(name, at), "entry '" + name + "' at " + at + " claims " + e.getSize()
          + " bytes, past the end of the file (" + size + " bytes)");
    }
    return new Entry(at, at + RECORD, read(path, channel, at + RECORD, (int) e.getSize(), name));
  }

  /** Parses and checks a metadata entry's header: checksum, name, regular file, size within the limit. */
  private static TarArchiveEntry parseHeader(Path path, byte[] header, long at, String name) throws ArchiveCorruptException {
    Where where = Where.entry(name, at);
    String problem = TarHeaders.checksumProblem(header);
    if (problem != null) {
      throw new ArchiveCorruptException(path, where, "tar header at " + at + " (expected '" + name + "'): " + problem);
    }
    TarArchiveEntry e;
    try {
      e = new TarArchiveEntry(header);
    } catch (IllegalArgumentException ex) {
      throw new ArchiveCorruptException(path, where, "tar header at " + at + " (expected '" + name + "'): "
          + ex.getMessage(), ex);
    }
    if (!e.getName().equals(name)) {
      throw new ArchiveCorruptException(path, where, "the entry at " + at + " is '" + e.getName() + "', expected '" + name + "'");
    }
    if (!e.isFile()) {
      throw new ArchiveCorruptException(path, where, "entry '" + name + "' at " + at + " is not a regular file");
    }
    if (e.getSize() < 0 || e.getSize() > ArchiveLimits.MAX_METADATA) {
      throw new ArchiveCorruptException(path, where, "entry '" + name + "' claims " + e.getSize()
          + " bytes (expected at most " + ArchiveLimits.MAX_METADATA + ")");
    }
    return e;
  }

  /** Whether the record at {@code at} starts with {@code name} and a NUL (as a ustar name field does). */
  private static boolean startsWithName(byte[] b, int at, String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (b[at + n.length] != 0) {
      return false;
    }
    for (int i = 0; i < n.length; i++) {
      if (b[at + i] != n[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code length} bytes from {@code at}, part of {@code entry} (null for the end-of-archive
   * records), which the error names when the file ends before them.
   */
  private static byte[] read(Path path, StoreInput channel, long at, int length, String entry) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    while (b.hasRemaining()) {
      if (channel.read(b, at + b.position()) < 0) {
        long end = at + b.position();
        throw new ArchiveCorruptException(path, entry == null ? Where.file(end) : Where.entry(entry, end),
            "the file ends at " + end + ", inside " + (entry == null ? "the end-of-archive records" : entry)
            + " that needs " + length + " bytes from " + at);
      }
    }
    return b.array();
  }
}
