package org.tidemark.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How Tidemark makes a finished file visible: written under a hidden temporary name beside its
 * target, then given the target's name in one step, and the directory forced to disk. Without
 * {@code replace} the step is a hard link, which fails rather than replace a file that appeared
 * meanwhile. Not an API: internal to Tidemark.
 */
public final class Publish {
  /** Temporary names start with this. */
  public static final String TEMP_PREFIX = ".";
  /** Temporary names have this between the target's name and a random suffix. */
  public static final String TEMP_INFIX = ".tmp-";

  private Publish() {}

  /** A hidden temporary name beside {@code target}: {@code .NAME.tmp-RANDOM}. */
  public static Path tempFor(Path target) {
    return target.resolveSibling(TEMP_PREFIX + target.getFileName() + TEMP_INFIX
        + Long.toHexString(ThreadLocalRandom.current().nextLong()));
  }

  /**
   * Gives the (closed, forced) file {@code temp} the name {@code target} and forces the directory.
   *
   * @throws java.nio.file.FileAlreadyExistsException when {@code target} exists and {@code replace} is false
   */
  public static void publish(Path temp, Path target, boolean replace) throws IOException {
    if (replace) {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } else {
      try {
        Files.createLink(target, temp);
      } finally {
        Files.deleteIfExists(temp);
      }
    }
    forceDirectory(target.toAbsolutePath().getParent());
  }

  /** Forces a directory's entries to disk so a rename survives a crash (where the file system allows). */
  public static void forceDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // some file systems cannot open a directory for reading; the rename itself is done
    }
  }
}
