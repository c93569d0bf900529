package org.tidemark.internal;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.Closeable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a sparse file has holes, as the file system knows it ({@code lseek} with {@code
 * SEEK_DATA} and {@code SEEK_HOLE}, through JNA, as QEMU asks): a reader can skip a range that
 * lies in a hole, which reads as zeros, without reading it, and a backup need not store it. A
 * hostile image can name millions of metadata clusters in the holes of a huge sparse file; with
 * this, the work follows what the file allocates, not what it claims. Not an API: internal to
 * Tidemark.
 *
 * <p>Each answer is a whole run of data or hole around the asked offset, kept (up to {@value
 * #CACHED_RUNS} runs) and reused for every later question inside it: a fully allocated file costs
 * two system calls for all its ranges, a sparse one two per run of data it holds. The file is
 * opened read-only and held against writers by the image's own locks, so its runs do not change.
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

    int fstat(int fd, Pointer stat) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  /**
   * A run of the file: bytes {@code [start, end)} are all data or all hole.
   *
   * @param start first byte
   * @param end one past the last byte
   * @param hole whether the run is a hole (reads as zeros, allocates nothing)
   */
  public record Run(long start, long end, boolean hole) {}

  /** Runs kept per file; the oldest half is dropped when full. */
  static final int CACHED_RUNS = 4096;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 02000000;
  private static final int SEEK_DATA = 3;
  private static final int SEEK_HOLE = 4;
  private static final int ENXIO = 6;
  /** Where {@code st_blocks} lies in {@code struct stat} on x86-64 and on aarch64 (both 64). */
  private static final int ST_BLOCKS = 64;
  private static final Holes NONE = new Holes(null, -1);
  private static final LibC LIBC = load();

  private final LibC libc;
  private final int fd;
  private volatile boolean works = true;
  /** Known runs by their start. */
  private final TreeMap<Long, Run> runs = new TreeMap<>();
  private final AtomicLong calls = new AtomicLong();

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
    return of(file, LIBC);
  }

  /** The holes of {@code file} as {@code libc} tells them (null: none known). */
  static Holes of(Path file, LibC libc) {
    if (libc == null) {
      return NONE;
    }
    try {
      return new Holes(libc, libc.open(file.toString(), O_RDONLY | O_CLOEXEC));
    } catch (LastErrorException e) {
      return NONE;
    }
  }

  /** One that knows no holes: every range is data (the behaviour where the file system does not tell). */
  public static Holes none() {
    return NONE;
  }

  /** Whether {@code [offset, offset + length)} lies entirely in a hole (reads as zeros, allocates nothing). */
  public boolean isHole(long offset, long length) {
    Run r = runAt(offset);
    return r.hole() && r.end() >= offset + length;
  }

  /**
   * The runs of data and hole that cover {@code [from, to)}, in order, clipped to it, each of one
   * kind (neighbours differ). Beyond the file's end is a hole. One run of data when unknown.
   */
  public List<Run> runs(long from, long to) {
    List<Run> out = new ArrayList<>();
    long pos = from;
    while (pos < to) {
      Run r = runAt(pos);
      long end = Math.min(to, r.end());
      if (!out.isEmpty() && out.get(out.size() - 1).hole() == r.hole()) {
        out.set(out.size() - 1, new Run(out.get(out.size() - 1).start(), end, r.hole()));
      } else {
        out.add(new Run(pos, end, r.hole()));
      }
      pos = end;
    }
    return out;
  }

  /**
   * Whether the file holds no data at or after {@code offset} (a hole to its end, or past its end):
   * a reader that knows the file's size at open tells a trailing hole from a file cut since.
   */
  public boolean noDataFrom(long offset) {
    Run r = runAt(offset);
    return r.hole() && r.end() == Long.MAX_VALUE;
  }

  /** The run that holds byte {@code offset}: from the kept runs, or asked of the file system. */
  private Run runAt(long offset) {
    if (libc == null || !works) {
      return new Run(offset, Long.MAX_VALUE, false);
    }
    synchronized (runs) {
      Map.Entry<Long, Run> e = runs.floorEntry(offset);
      if (e != null && e.getValue().end() > offset) {
        return e.getValue();
      }
    }
    Run r = ask(offset);
    synchronized (runs) {
      if (runs.size() >= CACHED_RUNS) {
        runs.headMap(runs.navigableKeySet().toArray(new Long[0])[CACHED_RUNS / 2]).clear();
      }
      runs.put(r.start(), r);
    }
    return r;
  }

  /** Asks the file system for the run at {@code offset}: a hole up to the next data, or data up to the next hole. */
  private Run ask(long offset) {
    long data;
    try {
      calls.incrementAndGet();
      data = libc.lseek(fd, offset, SEEK_DATA);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == ENXIO) {
        return new Run(offset, Long.MAX_VALUE, true); // no data at or after offset
      }
      works = false; // EINVAL: the file system does not say
      return new Run(offset, Long.MAX_VALUE, false);
    }
    if (data > offset) {
      return new Run(offset, data, true);
    }
    try {
      calls.incrementAndGet();
      long hole = libc.lseek(fd, offset, SEEK_HOLE);
      return new Run(offset, hole > offset ? hole : Long.MAX_VALUE, false);
    } catch (LastErrorException e) {
      return new Run(offset, Long.MAX_VALUE, false);
    }
  }

  /**
   * The bytes the file allocates on its device ({@code st_blocks} times 512, as {@code du} and
   * QEMU count them: preallocated and unwritten extents included); empty when unknown.
   */
  public OptionalLong allocatedBytes() {
    String arch = System.getProperty("os.arch", "");
    if (libc == null || !(arch.equals("amd64") || arch.equals("aarch64"))) {
      return OptionalLong.empty();
    }
    try (Memory stat = new Memory(256)) {
      stat.clear();
      libc.fstat(fd, stat);
      return OptionalLong.of(stat.getLong(ST_BLOCKS) * 512);
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      return OptionalLong.empty();
    }
  }

  /** System calls made so far (for tests: the queries follow the runs, not the ranges asked). */
  public long calls() {
    return calls.get();
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
