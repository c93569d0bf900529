package org.tidemark.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.Closeable;
import java.nio.file.Path;

/**
 * Where a sparse file has holes, as the file system knows it ({@code lseek} with {@code
 * SEEK_DATA}, through JNA, as QEMU asks): a reader can skip a range that lies in a hole, which
 * reads as zeros, without reading it. A hostile image can name millions of metadata clusters in
 * the holes of a huge sparse file; with this, the work follows what the file allocates, not what
 * it claims. Not an API: internal to Tidemark.
 *
 * <p>Where the C library or {@code SEEK_DATA} is not available (another OS, a file system that
 * does not tell), every range counts as data: the reader then reads it, as before. The file is
 * opened read-only a second time for this; its descriptor is closed by {@link #close} (which, by
 * POSIX rules, also ends this process's record locks on the file: close it with the image).
 * Thread-safe: each query is one system call whose answer does not depend on the file offset.
 */
public final class Holes implements Closeable {
  /** The C library calls used. */
  interface LibC extends Library {
    int open(String path, int flags) throws LastErrorException;

    long lseek(int fd, long offset, int whence) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 02000000;
  private static final int SEEK_DATA = 3;
  private static final int ENXIO = 6;
  private static final Holes NONE = new Holes(null, -1);
  private static final LibC LIBC = load();

  private final LibC libc;
  private final int fd;
  private volatile boolean works = true;

  private Holes(LibC libc, int fd) {
    this.libc = libc;
    this.fd = fd;
  }

  private static LibC load() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return null; // the flags and whence values above are Linux's
    }
    try {
      return Native.load("c", LibC.class);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return null;
    }
  }

  /** The holes of {@code file}; one that knows none when they cannot be asked for. */
  public static Holes of(Path file) {
    if (LIBC == null) {
      return NONE;
    }
    try {
      return new Holes(LIBC, LIBC.open(file.toString(), O_RDONLY | O_CLOEXEC));
    } catch (LastErrorException e) {
      return NONE;
    }
  }

  /** Whether {@code [offset, offset + length)} lies entirely in a hole (reads as zeros, allocates nothing). */
  public boolean isHole(long offset, long length) {
    if (libc == null || !works) {
      return false;
    }
    try {
      long data = libc.lseek(fd, offset, SEEK_DATA);
      return data >= offset + length;
    } catch (LastErrorException e) {
      if (e.getErrorCode() == ENXIO) {
        return true; // no data at or after offset
      }
      works = false; // EINVAL: the file system does not say
      return false;
    }
  }

  @Override
  public void close() {
    if (libc != null && fd >= 0) {
      try {
        libc.close(fd);
      } catch (LastErrorException e) {
        // nothing to undo
      }
    }
  }
}
