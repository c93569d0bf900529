package org.tidemark.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
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
 * {@code replace} the step never replaces a file that appeared meanwhile ({@link #publishNew}: a
 * hard link, or an exclusive placeholder and an atomic rename where there are no hard links). The
 * one place every writer (the archive store's outputs, raw and qcow2 images) commits through. Not
 * an API: internal to Tidemark.
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
        publishNew(temp, target);
      } finally {
        discard(temp);
      }
    }
    PENDING.remove(temp);
    forceDirectory(target.toAbsolutePath().getParent());
  }

  /**
   * Gives {@code temp} the name {@code target}, which must not exist, never replacing a file that
   * appeared meanwhile. Java has no rename that refuses to replace ({@code renameat2} with {@code
   * RENAME_NOREPLACE}), so: a hard link, which the kernel refuses when the name exists; where the
   * file system has no hard links ({@link UnsupportedOperationException} from a non-default NIO
   * file system, an error such as {@code EPERM} from FAT or some FUSE mounts), the name is reserved
   * by an exclusive create (which fails when it exists) and {@code temp} moved over that empty
   * placeholder, ours, with an atomic rename. Until that rename, readers see an empty file (no
   * archive: it has no seal); a crash there leaves it.
   *
   * @throws FileAlreadyExistsException when {@code target} exists
   * @throws org.tidemark.store.CommitUnsupportedException when the file system has neither hard
   *     links nor an atomic rename (nothing under {@code target} is left)
   */
  private static void publishNew(Path temp, Path target) throws IOException {
    publishNew(temp, target, (from, to) ->
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING));
  }

  /** An atomic rename that replaces: {@link Files#move} with {@code ATOMIC_MOVE}; a seam for tests. */
  interface AtomicRename {
    void move(Path from, Path to) throws IOException;
  }

  /** {@link #publishNew(Path, Path)} with {@code rename} as its atomic rename. */
  static void publishNew(Path temp, Path target, AtomicRename rename) throws IOException {
    Exception noLink;
    try {
      Files.createLink(target, temp);
      return;
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (UnsupportedOperationException | FileSystemException e) {
      noLink = e;
    }
    try {
      Files.createFile(target); // the placeholder: exclusive, fails when the name is taken
    } catch (IOException e) {
      e.addSuppressed(noLink);
      throw e;
    }
    try {
      rename.move(temp, target);
    } catch (AtomicMoveNotSupportedException | UnsupportedOperationException e) {
      Files.deleteIfExists(target); // still our placeholder: the move did not happen
      org.tidemark.store.CommitUnsupportedException failure = new org.tidemark.store.CommitUnsupportedException(
          target.toString(), "cannot be published without the risk of replacing a file of that name: the file system"
          + " (" + target.getFileSystem().provider().getScheme() + ") has neither hard links (" + noLink
          + ") nor an atomic rename (" + e + "); nothing was written under that name");
      failure.addSuppressed(noLink);
      throw failure;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(target);
      e.addSuppressed(noLink);
      throw e;
    }
  }

  /** Whether {@code temp} is a temporary file of this JVM not yet published or discarded. */
  public static boolean isPending(Path temp) {
    return PENDING.contains(temp);
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

  /**
   * Ends the writes of a temporary file: {@code writes}, what writes to {@code channel} besides its
   * own writes (a writer's direct writes: their tail, the early writeback), is closed, then the
   * file forced to disk and closed. The file is then complete, under its temporary name, for {@link
   * #publish} (alone or together with others). How every writer finishes.
   */
  public static void finish(Closeable writes, FileChannel channel) throws IOException {
    writes.close();
    channel.force(true);
    channel.close();
  }

  /**
   * Gives up a temporary file that was being written: closes {@code writes} (as {@link #finish}
   * does) and the channel, and deletes the file, whatever fails on the way. How every writer
   * discards.
   */
  public static void abandon(Closeable writes, FileChannel channel, Path temp) throws IOException {
    try {
      writes.close();
    } finally {
      closeAndDiscard(channel, temp);
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
