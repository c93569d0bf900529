package org.tidemark.archive;

import java.nio.charset.StandardCharsets;

/**
 * Hostile edits of one ustar header of an archive, as an attacker with write access to a
 * repository would make them: the entry turned into a link, a device node or a FIFO, or given a
 * setuid mode or a link name, and the header's checksum fixed so that tar accepts it.
 */
enum TarTamper {
  SYMLINK('2', "/etc/shadow", null, 0, 0, 'l', "a symbolic link"),
  HARD_LINK('1', "checkpoint.xml", null, 0, 0, 'h', "a hard link"),
  CHAR_DEVICE('3', null, null, 1, 3, 'c', "a character device"),
  BLOCK_DEVICE('4', null, null, 8, 0, 'b', "a block device"),
  FIFO('6', null, null, 0, 0, 'p', "a FIFO"),
  SETUID('0', null, "0104777", 0, 0, '-', "mode 0104777"),
  LINK_NAME('0', "/etc/passwd", null, 0, 0, '-', "link name '/etc/passwd'");

  final char type;
  final String linkName;
  final String mode;
  final int major;
  final int minor;
  /** The first letter of the entry's line in {@code tar tvf}: what tar takes the entry for. */
  final char tarListing;
  /** What verify's finding says. */
  final String problem;

  TarTamper(char type, String linkName, String mode, int major, int minor, char tarListing, String problem) {
    this.type = type;
    this.linkName = linkName;
    this.mode = mode;
    this.major = major;
    this.minor = minor;
    this.tarListing = tarListing;
    this.problem = problem;
  }

  /** A copy of {@code archive} with the ustar header at {@code at} edited and its checksum fixed. */
  byte[] apply(byte[] archive, int at) {
    byte[] b = archive.clone();
    b[at + 156] = (byte) type;
    if (linkName != null) {
      put(b, at + 157, linkName + "\0");
    }
    if (mode != null) {
      put(b, at + 100, mode + " ");
    }
    if (major != 0 || minor != 0) {
      put(b, at + 329, String.format("%07o ", major));
      put(b, at + 337, String.format("%07o ", minor));
    }
    fixChecksum(b, at);
    return b;
  }

  /** Recomputes the POSIX checksum of the header at {@code at}, written as the writer writes it. */
  static void fixChecksum(byte[] b, int at) {
    long sum = 0;
    for (int i = 0; i < TarHeaders.RECORD; i++) {
      sum += i >= 148 && i < 156 ? ' ' : b[at + i] & 0xff;
    }
    put(b, at + 148, String.format("%06o", sum) + "\0 ");
  }

  private static void put(byte[] b, int at, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, b, at, bytes.length);
  }
}
