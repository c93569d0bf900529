package org.tidemark.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The header records of a tar entry, as Commons Compress formats them: one 512-byte ustar
 * header, preceded by a PAX extended header when the name is longer than ustar's 100 bytes or a
 * number does not fit its octal field; for a large chunk, a PAX {@code comment} record that pads
 * its data to a 4 KiB boundary ({@link #formatChunk}). {@link ArchiveWriter} writes the data
 * itself, so that chunk bytes go to the file in one write each instead of through the tar stream's
 * 512-byte records. Thread-safe.
 */
final class TarHeaders {
  /** A tar record, the unit of headers and of data padding. */
  static final int RECORD = 512;
  /** Chunks storing at least this many bytes have their data aligned to {@link #ALIGNMENT}. */
  static final int ALIGNED_MIN = 1 << 20;
  /** Where the data of a large chunk starts: a multiple of 4 KiB, so it can be written directly. */
  static final int ALIGNMENT = 4096;
  /** The largest number a ustar octal field of 12 bytes holds. */
  private static final long OCTAL_11 = 077777777777L;

  private TarHeaders() {}

  /** The entry Tidemark writes: a regular file, mode 0644, {@code created} (whole seconds) as mtime. */
  static TarArchiveEntry entry(String name, long size, long created) {
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(size);
    // Whole seconds: a sub-second time would make the writer add a PAX header to every entry.
    e.setLastModifiedTime(FileTime.from(created, TimeUnit.SECONDS));
    e.setMode(0100644);
    return e;
  }

  /** How many bytes {@link #format} gives for {@link #entry}: 512 unless a PAX header is needed. */
  static int length(String name, long size, long created) {
    return plain(name, size, created) ? RECORD : format(entry(name, size, created)).length;
  }

  /**
   * The header records of a chunk entry whose header starts at file offset {@code position}. A
   * chunk storing at least {@value #ALIGNED_MIN} bytes gets a PAX extended header with a {@code
   * comment} record (which tar readers ignore) just long enough for its data to start at a multiple
   * of {@value #ALIGNMENT} bytes in the file; a smaller chunk gets the plain header of {@link
   * #format(TarArchiveEntry)}.
   */
  static byte[] formatChunk(String name, long size, long created, long position) {
    if (size < ALIGNED_MIN) {
      return format(entry(name, size, created));
    }
    int record = 256; // the comment record's length, digits and newline included
    for (int attempt = 0; attempt < 4; attempt++) {
      TarArchiveEntry e = entry(name, size, created);
      int digits = Integer.toString(record).length();
      e.addPaxHeader("comment", "x".repeat(record - digits - 10)); // "NNN comment=xxx\n"
      byte[] h = format(e);
      int misaligned = (int) Math.floorMod(position + h.length, (long) ALIGNMENT);
      if (misaligned == 0) {
        return h;
      }
      record += ALIGNMENT - misaligned; // a multiple of 512: the PAX data grows by as many records
    }
    throw new IllegalStateException("no PAX padding aligns the data of " + name + " at " + position);
  }

  /**
   * How many bytes {@link #formatChunk} gives: for a plain name, without formatting (the data of a
   * large chunk starts at the first multiple of {@value #ALIGNMENT} at least three records on).
   */
  static int chunkLength(String name, long size, long created, long position) {
    if (size < ALIGNED_MIN) {
      return length(name, size, created);
    }
    if (plain(name, size, created)) {
      long data = (position + 3 * RECORD + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
      return (int) (data - position);
    }
    return formatChunk(name, size, created, position).length;
  }

  /** Whether the entry fits a ustar header alone: a short ASCII name, octal size and time. */
  private static boolean plain(String name, long size, long created) {
    return name.length() < 100 && name.chars().allMatch(c -> c < 0x80)
        && size <= OCTAL_11 && created >= 0 && created <= OCTAL_11;
  }

  /**
   * Why a 512-byte ustar header is not sound, or null when it is: POSIX's checksum (the sum of the
   * header's unsigned bytes with the 8-byte checksum field at 148 counted as spaces) must match
   * the octal number in that field.
   */
  static String checksumProblem(byte[] h) {
    long sum = 0;
    for (int i = 0; i < RECORD; i++) {
      sum += i >= 148 && i < 156 ? ' ' : h[i] & 0xff;
    }
    String field = new String(h, 148, 8, StandardCharsets.US_ASCII).replace('\0', ' ').trim();
    long stored;
    try {
      stored = Long.parseLong(field, 8);
    } catch (NumberFormatException ex) {
      stored = -1;
    }
    return stored == sum ? null : "checksum field '" + field + "', header sums to " + Long.toOctalString(sum);
  }

  /** Records needed for {@code size} bytes of data. */
  static long padded(long size) {
    return (size + RECORD - 1) / RECORD * RECORD;
  }

  /**
   * The header records that {@link TarArchiveOutputStream} (POSIX long names and big numbers)
   * writes for {@code entry} before its data: a multiple of {@value #RECORD} bytes.
   */
  static byte[] format(TarArchiveEntry entry) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(RECORD);
    // A stream per entry, dropped after the header: it holds no resource, and its records go
    // straight through (block size = one record).
    TarArchiveOutputStream tar = new TarArchiveOutputStream(out, RECORD);
    tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
    try {
      tar.putArchiveEntry(entry);
      tar.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("formatting the tar header of " + entry.getName(), e); // in memory: never
    }
    return out.toByteArray();
  }
}
