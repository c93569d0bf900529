package org.tidemark.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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

  /** Temporary files handed out and neither published nor discarded yet. */
  private static final Set<Path> PENDING = ConcurrentHashMap.newKeySet();

  private Publish() {}

  /**
   * A hidden temporary name beside {@code target}: {@code .NAME.tmp-RANDOM}. It is pending until
   * {@link #publish published} or {@link #discard discarded}; {@link #discardPending} removes what
   * is pending when the process is told to stop.
   */
  public static Path tempFor(Path target) {
    Path temp = target.resolveSibling(TEMP_PREFIX + target.getFileName() + TEMP_INFIX
        + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    PENDING.add(temp);
    return temp;
  }

  /** Deletes a temporary file that will not be published. */
  public static void discard(Path temp) throws IOException {
    try {
      Files.deleteIfExists(temp);
    } finally {
      PENDING.remove(temp);
    }
  }

  /**
   * Deletes every pending temporary file, for a shutdown hook (Ctrl-C): an interrupted backup or
   * restore leaves nothing behind. Returns what was deleted.
   */
  public static List<Path> discardPending() {
    List<Path> deleted = new ArrayList<>();
    for (Path p : List.copyOf(PENDING)) {
      try {
        if (Files.deleteIfExists(p)) {
          deleted.add(p);
        }
      } catch (IOException e) {
        // best effort while the process stops; the next run removes leftovers
      }
      PENDING.remove(p);
    }
    return deleted;
  }

  /** The temporary files of {@code target} left by a process that was killed. */
  public static List<Path> leftoversOf(Path target) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    String prefix = TEMP_PREFIX + target.getFileName() + TEMP_INFIX;
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix) && !PENDING.contains(p)).toList();
    }
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
        discard(temp);
      }
    }
    PENDING.remove(temp);
    forceDirectory(target.toAbsolutePath().getParent());
  }

  /**
   * Forces {@code channel}, open on the temporary file {@code temp}, to disk, closes it, and
   * publishes {@code temp} as {@code target} ({@link #publish}): how every writer commits.
   */
  public static void forceAndPublish(FileChannel channel, Path temp, Path target, boolean replace) throws IOException {
    channel.force(true);
    channel.close();
    publish(temp, target, replace);
  }

  /**
   * Closes {@code channel}, open on the temporary file {@code temp}, and discards {@code temp}
   * even when the close fails: how every writer gives up.
   */
  public static void closeAndDiscard(FileChannel channel, Path temp) throws IOException {
    try {
      channel.close();
    } finally {
      discard(temp);
    }
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
