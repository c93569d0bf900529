package org.tidemark.internal;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The file system a path is on, its usable space, and a "no space left on device" that names them:
 * the JDK reports ENOSPC as a bare {@code IOException("No space left on device")}, naming neither
 * the file being written nor the file system that is full.
 */
public final class FileSystemSpace {
  private static final String ENOSPC = "no space left on device";

  private FileSystemSpace() {}

  /**
   * The file store of {@code path}, or of its nearest existing ancestor when it does not exist yet
   * (a restore's output folder is created later).
   */
  public static FileStore storeOf(Path path) throws IOException {
    Path p = path.toAbsolutePath().normalize();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    return Files.getFileStore(p == null ? path.toAbsolutePath().getRoot() : p);
  }

  /** A file store as Linux names it: its mount point and device ({@code /srv/backup (/dev/sdb1)}). */
  public static String describe(FileStore store) {
    return store + ", " + store.type();
  }

  /** A size in MiB, or GiB from 1 GiB, with one decimal, and the exact count: {@code 3.5 MiB (3670016 bytes)}. */
  public static String bytes(long n) {
    boolean gib = n >= 1L << 30;
    return String.format(Locale.ROOT, "%.1f %s (%d bytes)", n / (double) (gib ? 1L << 30 : 1L << 20), gib ? "GiB" : "MiB", n);
  }

  /** Whether {@code e} is the operating system's ENOSPC. */
  public static boolean isNoSpace(IOException e) {
    String m = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
    return m != null && m.toLowerCase(Locale.ROOT).contains(ENOSPC);
  }

  /**
   * {@code e} itself, unless it is ENOSPC: then a {@link FileSystemException} naming {@code file},
   * the file system it is on and its usable space, with {@code e} as its cause.
   */
  public static IOException naming(IOException e, Path file) {
    if (!isNoSpace(e)) {
      return e;
    }
    String where;
    try {
      FileStore store = storeOf(file);
      where = "the file system " + describe(store) + " is full, " + bytes(store.getUsableSpace()) + " usable now";
    } catch (IOException | RuntimeException unknown) {
      where = "its file system is full";
    }
    FileSystemException named = new FileSystemException(file.toString(), null, "No space left on device: " + where);
    named.initCause(e);
    return named;
  }
}
