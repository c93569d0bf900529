package org.tidemark.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * What kind of file a path names, checked before a file is opened: opening a FIFO blocks until a
 * writer comes (forever, in a backup repository), a character device such as {@code /dev/zero}
 * reads without end, and a folder or socket does not read at all. Symbolic links are followed.
 * Not an API: internal to Tidemark.
 */
public final class FileKinds {
  private static final int S_IFMT = 0170000;
  private static final int S_IFIFO = 0010000;
  private static final int S_IFCHR = 0020000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFBLK = 0060000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFSOCK = 0140000;

  private FileKinds() {}

  /**
   * What {@code path} is when it is not a regular file (nor, with {@code blockDevice}, a block
   * device): "a FIFO", "a socket", "a character device", "a block device", "a directory" or "of another
   * kind"; null when it may be opened. Reads the file's attributes only, never opens it.
   *
   * @throws java.nio.file.NoSuchFileException when nothing is there (or a link leads nowhere)
   */
  public static String notRegular(Path path, boolean blockDevice) throws IOException {
    int type;
    try {
      type = (Integer) Files.getAttribute(path, "unix:mode") & S_IFMT;
    } catch (UnsupportedOperationException | IllegalArgumentException e) { // no unix view: the basic one
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      type = a.isRegularFile() ? S_IFREG : a.isDirectory() ? S_IFDIR : 0;
    }
    return switch (type) {
      case S_IFREG -> null;
      case S_IFBLK -> blockDevice ? null : "a block device";
      case S_IFIFO -> "a FIFO";
      case S_IFSOCK -> "a socket";
      case S_IFCHR -> "a character device";
      case S_IFDIR -> "a directory";
      default -> "of another kind";
    };
  }
}
