package org.tidemark.archive;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The header records of a tar entry, as Commons Compress formats them: one 512-byte ustar
 * header, preceded by a PAX extended header when the name is longer than ustar's 100 bytes or a
 * number does not fit its octal field. {@link ArchiveWriter} writes the data itself, so that chunk
 * bytes go to the file in one write each instead of through the tar stream's 512-byte records.
 * Thread-safe.
 */
final class TarHeaders {
  /** A tar record, the unit of headers and of data padding. */
  static final int RECORD = 512;

  private TarHeaders() {}

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
