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
  /** The mode of every entry: a regular file, {@code rw-r--r--} (no setuid, setgid or sticky bit). */
  static final int MODE = 0100644;
  /** The most header bytes an entry may have before its data (PAX path and alignment comment included). */
  static final int MAX_HEADERS = 64 << 10;
  /** The PAX records the writer writes: a long or non-ASCII name, and the alignment padding. */
  private static final java.util.Set<String> PAX_KEYS = java.util.Set.of("path", "comment");

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
    // the comment record's length, digits and newline included: for a plain name, the length that
    // aligns the data at once (PAX header record, the comment's whole records, ustar record), so
    // that the headers are formatted once; otherwise a guess the loop corrects
    int record = plain(name, size, created) ? chunkLength(name, size, created, position) - 2 * RECORD : 256;
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

  /**
   * Why the header records of an entry are not what {@link ArchiveWriter} writes, or null when
   * they are. {@code headers} are the bytes from the entry's first header record to its data: one
   * ustar header, or a PAX extended header (type {@code x}, records {@code path} and {@code
   * comment} only) and its data before it. The ustar header must be what {@link #entry} formats
   * but for name, size and time: a sound checksum, type {@code 0} (a regular file: not a link,
   * device, FIFO or folder, which {@code tar x} would create), mode {@code 0100644} (no setuid
   * bit), no link name, owner 0/0 with no user or group name, no device numbers, the POSIX ustar
   * magic. The name and size are the caller's to check, against the index.
   */
  static String headersProblem(byte[] headers) {
    int main = headers.length - RECORD;
    if (main < 0 || headers.length % RECORD != 0) {
      return headers.length + " bytes of headers (expected a whole number of 512-byte records)";
    }
    if (main > 0) {
      String pax = paxProblem(headers, main);
      if (pax != null) {
        return "PAX extended header: " + pax;
      }
    }
    byte[] h = java.util.Arrays.copyOfRange(headers, main, headers.length);
    String problem = checksumProblem(h);
    if (problem != null) {
      return problem;
    }
    if (h[156] != '0') {
      return "type '" + printable(h[156]) + "' (" + typeName(h[156]) + "), expected '0' (a regular file)";
    }
    String magic = new String(h, 257, 8, StandardCharsets.ISO_8859_1);
    if (!magic.equals("ustar\0" + "00")) {
      return "magic '" + magic.replace('\0', ' ').trim() + "', expected POSIX 'ustar' version 00";
    }
    long mode = octal(h, 100, 8);
    if (mode != MODE) {
      return "mode " + (mode < 0 ? "field '" + field(h, 100, 8) + "'" : "0" + Long.toOctalString(mode))
          + ", expected 0" + Integer.toOctalString(MODE) + " (a regular file, rw-r--r--, no setuid, setgid or sticky bit)";
    }
    if (!zeros(h, 157, 100)) {
      return "link name '" + field(h, 157, 100) + "', expected none";
    }
    long uid = octal(h, 108, 8);
    long gid = octal(h, 116, 8);
    if (uid != 0 || gid != 0 || !zeros(h, 265, 64)) {
      return "owner " + field(h, 108, 8) + "/" + field(h, 116, 8) + " ('" + field(h, 265, 32) + "'/'" + field(h, 297, 32)
          + "'), expected 0/0 without names";
    }
    if (octal(h, 329, 8) != 0 || octal(h, 337, 8) != 0) {
      return "device numbers " + field(h, 329, 8) + "," + field(h, 337, 8) + ", expected 0,0";
    }
    return null;
  }

  /** Why the PAX extended header in {@code b[0, end)} is not one the writer writes, or null. */
  private static String paxProblem(byte[] b, int end) {
    byte[] h = java.util.Arrays.copyOf(b, RECORD);
    String problem = checksumProblem(h);
    if (problem != null) {
      return problem;
    }
    if (h[156] != 'x') {
      return "type '" + printable(h[156]) + "' (" + typeName(h[156]) + ") before the entry's header, expected 'x'"
          + " (a PAX extended header) or nothing";
    }
    long size = octal(h, 124, 12);
    if (size < 0 || RECORD + padded(size) != end) {
      return "size field '" + field(h, 124, 12) + "', but " + (end - RECORD) + " bytes lie between it and the entry's"
          + " header";
    }
    // records "LENGTH KEY=VALUE\n", LENGTH in bytes (the value may be UTF-8)
    int at = RECORD;
    int stop = RECORD + (int) size;
    while (at < stop) {
      int space = at;
      long length = 0;
      while (space < stop && b[space] >= '0' && b[space] <= '9' && length < stop) {
        length = length * 10 + (b[space++] - '0');
      }
      int equals = space;
      while (equals < stop && b[equals] != '=' && b[equals] != '\n') {
        equals++;
      }
      if (space == at || space >= stop || b[space] != ' ' || length > stop - at || equals >= at + length
          || b[equals] != '=' || b[at + (int) length - 1] != '\n') {
        return "record at " + (at - RECORD) + " is not 'LENGTH KEY=VALUE\\n'";
      }
      String key = new String(b, space + 1, equals - space - 1, StandardCharsets.UTF_8);
      if (!PAX_KEYS.contains(key)) {
        return "record '" + key.replaceAll("\\p{Cntrl}", "?") + "' (the writer writes only "
            + new java.util.TreeSet<>(PAX_KEYS) + ")";
      }
      at += (int) length;
    }
    return null;
  }

  private static String typeName(byte type) {
    return switch (type) {
      case '0', 0 -> "a regular file";
      case '1' -> "a hard link";
      case '2' -> "a symbolic link";
      case '3' -> "a character device";
      case '4' -> "a block device";
      case '5' -> "a directory";
      case '6' -> "a FIFO";
      case '7' -> "a contiguous file";
      case 'x' -> "a PAX extended header";
      case 'g' -> "a PAX global header";
      case 'L', 'K' -> "a GNU long name";
      case 'S' -> "a GNU sparse file";
      default -> "unknown";
    };
  }

  private static String printable(byte b) {
    return b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b & 0xff);
  }

  /** An octal field as ustar writes it (leading spaces or zeros, ended by a space or NUL); -1 when it is not one. */
  private static long octal(byte[] h, int at, int length) {
    String f = field(h, at, length);
    if (f.isEmpty() || f.length() > 12 || !f.chars().allMatch(c -> c >= '0' && c <= '7')) {
      return f.isEmpty() ? 0 : -1;
    }
    return Long.parseLong(f, 8);
  }

  /** A field's text up to its first NUL, spaces trimmed, control and non-ASCII bytes shown as '?'. */
  private static String field(byte[] h, int at, int length) {
    int end = at;
    while (end < at + length && h[end] != 0) {
      end++;
    }
    StringBuilder b = new StringBuilder();
    for (int i = at; i < end; i++) {
      b.append(h[i] >= 0x20 && h[i] < 0x7f ? (char) h[i] : '?');
    }
    return b.toString().trim();
  }

  private static boolean zeros(byte[] h, int at, int length) {
    for (int i = at; i < at + length; i++) {
      if (h[i] != 0) {
        return false;
      }
    }
    return true;
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
