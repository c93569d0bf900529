package org.tidemark.nbd;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ExtentSet;

/**
 * An NBD export read through libnbd, as a {@link DiskSource}: the disk of a running VM that a
 * libvirt pull-mode backup job exports, frozen at the job's checkpoint.
 *
 * <p>Allocation comes from the {@value #BASE_ALLOCATION} meta context (a range reads as zeros when
 * the server says so), dirty extents from {@code qemu:dirty-bitmap:NAME} contexts (libvirt names
 * the one of a backup job {@code backup-DISK}); the contexts are asked for when connecting, so
 * {@link #dirtyExtents} knows only the bitmaps given to {@link #open}. Reads go over several
 * connections at once (libnbd serialises the requests of one handle): as many as {@code open} was
 * given, or one when the server does not allow several connections to a writable export.
 *
 * <p>Thread-safe: {@link #readFully} may be called from several threads; each takes a connection of
 * its own for the length of its request.
 */
public final class NbdExport implements DiskSource {
  /** The meta context of allocation and zero ranges. */
  public static final String BASE_ALLOCATION = "base:allocation";
  /** The prefix of QEMU's dirty-bitmap meta contexts. */
  public static final String DIRTY_BITMAP = "qemu:dirty-bitmap:";
  /** The largest read request sent: QEMU's NBD server takes at most 32 MiB. */
  static final int MAX_REQUEST = 32 << 20;
  /** The most asked of one block status request (the count is 32 bits). */
  static final long MAX_STATUS = 1L << 30;
  /** Heap buffers are read through a direct one of this size. */
  private static final int BOUNCE = 4 << 20;

  private final LibNbd lib;
  private final NbdEndpoint endpoint;
  private final Pointer control;
  private final List<Pointer> handles;
  private final BlockingQueue<Pointer> readers;
  private final long size;
  private final Set<String> bitmaps;

  private NbdExport(LibNbd lib, NbdEndpoint endpoint, List<Pointer> handles, long size, Set<String> bitmaps) {
    this.lib = lib;
    this.endpoint = endpoint;
    this.handles = List.copyOf(handles);
    this.control = handles.get(0);
    this.readers = new ArrayBlockingQueue<>(handles.size(), false, handles);
    this.size = size;
    this.bitmaps = Set.copyOf(bitmaps);
  }

  /**
   * Connects to an export.
   *
   * @param bitmaps the dirty bitmaps to ask for ({@code backup-vda} for the context {@code
   *     qemu:dirty-bitmap:backup-vda}); the server must offer each
   * @param connections connections for parallel reads, at least 1
   * @throws NbdException when libnbd is missing, the server cannot be reached, or it lacks a context
   */
  public static NbdExport open(NbdEndpoint endpoint, List<String> bitmaps, int connections) throws NbdException {
    if (connections < 1) {
      throw new IllegalArgumentException("connections " + connections + " (expected at least 1)");
    }
    LibNbd lib = LibNbd.Holder.get();
    Set<String> contexts = new LinkedHashSet<>();
    contexts.add(BASE_ALLOCATION);
    bitmaps.forEach(b -> contexts.add(DIRTY_BITMAP + b));
    List<Pointer> handles = new ArrayList<>();
    try {
      Pointer control = connect(lib, endpoint, contexts);
      handles.add(control);
      for (String c : contexts) {
        int can = lib.nbd_can_meta_context(control, c);
        if (can != 1) {
          throw new NbdException(endpoint.uri() + ": the server offers no meta context '" + c + "'"
              + (can < 0 ? ": " + lib.nbd_get_error() : ""), 0);
        }
      }
      long size = lib.nbd_get_size(control);
      if (size < 0) {
        throw failure(lib, endpoint, "size");
      }
      boolean parallel = lib.nbd_can_multi_conn(control) == 1 || lib.nbd_is_read_only(control) == 1;
      for (int i = 1; i < (parallel ? connections : 1); i++) {
        handles.add(connect(lib, endpoint, Set.of()));
      }
      return new NbdExport(lib, endpoint, handles, size, Set.copyOf(bitmaps));
    } catch (NbdException | RuntimeException e) {
      handles.forEach(lib::nbd_close);
      throw e;
    }
  }

  /**
   * Loads libnbd and binds the calls {@link #open} makes first, ahead of it: for a caller that
   * waits on something else meanwhile (libvirt beginning the backup job). Silent when libnbd is
   * missing or fails: {@link #open} reports that.
   */
  public static void preload() {
    try {
      LibNbd lib = LibNbd.Holder.get();
      Pointer h = lib.nbd_create();
      if (h != null) {
        skipReadZeroing(lib, h);
        lib.nbd_close(h);
      }
      // the callback structure's layout is computed once per class, on its first instance
      new LibNbd.ExtentCallback.ByValue((userData, metacontext, offset, entries, nrEntries, error) -> 0);
    } catch (NbdException | RuntimeException | LinkageError e) {
      // open says what is wrong
    }
  }

  private static Pointer connect(LibNbd lib, NbdEndpoint endpoint, Set<String> contexts) throws NbdException {
    Pointer h = lib.nbd_create();
    if (h == null) {
      throw failure(lib, endpoint, "create a handle");
    }
    try {
      skipReadZeroing(lib, h);
      check(lib, endpoint, lib.nbd_set_export_name(h, endpoint.exportName()), "set the export name");
      for (String c : contexts) {
        check(lib, endpoint, lib.nbd_add_meta_context(h, c), "ask for meta context " + c);
      }
      int rc = endpoint.socket().isPresent()
          ? lib.nbd_connect_unix(h, endpoint.socket().get().toString())
          : lib.nbd_connect_tcp(h, endpoint.host().orElseThrow(), Integer.toString(endpoint.port()));
      check(lib, endpoint, rc, "connect");
      return h;
    } catch (NbdException | RuntimeException e) {
      lib.nbd_close(h);
      throw e;
    }
  }

  /**
   * Turns off libnbd's zeroing of each read buffer before the read ({@code nbd_set_pread_initialize},
   * libnbd 1.12 and later): a memset of every byte copied, a sixth of a live full backup's CPU. The
   * guard is for callers that use a buffer after a failed read; {@link #readDirect} throws on every
   * failed request, so the engine never looks at such a buffer. An older libnbd keeps its zeroing.
   */
  private static void skipReadZeroing(LibNbd lib, Pointer h) {
    try {
      lib.nbd_set_pread_initialize(h, false);
    } catch (UnsatisfiedLinkError e) {
      // libnbd before 1.12: the buffers stay zeroed, reads are as correct and slower
    }
  }

  private static void check(LibNbd lib, NbdEndpoint endpoint, int rc, String what) throws NbdException {
    if (rc < 0) {
      throw failure(lib, endpoint, what);
    }
  }

  private static NbdException failure(LibNbd lib, NbdEndpoint endpoint, String what) {
    String message = lib.nbd_get_error();
    return new NbdException(endpoint.uri() + ": cannot " + what + ": " + (message == null ? "unknown error" : message),
        lib.nbd_get_errno());
  }

  /** The export this reads. */
  public NbdEndpoint endpoint() {
    return endpoint;
  }

  /** How many connections reads use. */
  public int connections() {
    return handles.size();
  }

  /** Whether libnbd zeroes read buffers before each read, per connection (for tests). */
  List<Boolean> zeroesReadBuffers() {
    return handles.stream().map(h -> lib.nbd_get_pread_initialize(h) != 0).toList();
  }

  @Override
  public String description() {
    return endpoint.uri();
  }

  @Override
  public long virtualSize() {
    return size;
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0 || offset > size - dst.remaining()) {
      throw new IOException(description() + ": read of " + dst.remaining() + " bytes at " + offset
          + " is outside the size " + size);
    }
    Pointer h = take();
    try {
      if (dst.isDirect()) {
        readDirect(h, offset, dst);
      } else {
        ByteBuffer bounce = ByteBuffer.allocateDirect(Math.min(BOUNCE, dst.remaining()));
        long pos = offset;
        while (dst.hasRemaining()) {
          bounce.clear().limit(Math.min(bounce.capacity(), dst.remaining()));
          readDirect(h, pos, bounce);
          pos += bounce.flip().remaining();
          dst.put(bounce);
        }
      }
    } finally {
      readers.add(h);
    }
  }

  private void readDirect(Pointer h, long offset, ByteBuffer dst) throws NbdException {
    Pointer base = Native.getDirectBufferPointer(dst);
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = Math.min(MAX_REQUEST, dst.remaining());
      if (lib.nbd_pread(h, base.share(dst.position()), n, pos, 0) < 0) {
        throw failure(lib, endpoint, "read " + n + " bytes at " + pos);
      }
      dst.position(dst.position() + n);
      pos += n;
    }
  }

  private Pointer take() throws IOException {
    try {
      return readers.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException(description() + ": interrupted waiting for a connection");
    }
  }

  @Override
  public List<Extent> allocation() throws IOException {
    List<Extent> out = new ArrayList<>();
    walk(BASE_ALLOCATION, (offset, length, flags) -> add(out, offset, length, (flags & LibNbd.STATE_ZERO) != 0));
    return out;
  }

  /**
   * {@link org.tidemark.disk.BitmapState#MISSING}: the export's dirty contexts belong to the backup
   * job, not to persistent bitmaps ({@link org.tidemark.libvirt.LiveDisk} answers for the
   * checkpoint's bitmap).
   */
  @Override
  public org.tidemark.disk.BitmapState bitmap(String name) {
    return org.tidemark.disk.BitmapState.MISSING;
  }

  /**
   * The union of the named bitmaps' dirty ranges, sorted and merged.
   *
   * @throws NbdException when a bitmap was not asked for at {@link #open}
   */
  @Override
  public List<Extent> dirtyExtents(List<String> names) throws IOException {
    ExtentSet ranges = new ExtentSet();
    for (String name : names) {
      if (!bitmaps.contains(name)) {
        throw new NbdException(description() + ": bitmap '" + name + "' was not asked for when connecting (asked: "
            + bitmaps + ")", 0);
      }
      walk(DIRTY_BITMAP + name, (offset, length, flags) -> {
        if ((flags & LibNbd.STATE_DIRTY) != 0) {
          ranges.add(offset, offset + length);
        }
      });
    }
    return ranges.extents();
  }

  private interface Visitor {
    void extent(long offset, long length, int flags);
  }

  /** Calls {@code visitor} for each extent of {@code context} over the whole export, in order. */
  private void walk(String context, Visitor visitor) throws IOException {
    long[] next = {0};
    long[] seen = {0};
    String[] problem = {null};
    LibNbd.ExtentFunction f = (userData, metacontext, offset, entries, nrEntries, error) -> {
      if (!context.equals(metacontext)) {
        return 0;
      }
      if (offset != next[0] || nrEntries % 2 != 0) {
        problem[0] = "block status for " + context + " answered at " + offset + " with " + nrEntries
            + " entries (expected an even number from " + next[0] + ")";
        return -1;
      }
      int[] e = entries.getIntArray(0, (int) nrEntries);
      long pos = offset;
      for (int i = 0; i < e.length && pos < size; i += 2) {
        long length = Math.min(e[i] & 0xffffffffL, size - pos);
        if (length == 0) {
          problem[0] = "block status for " + context + " returned an empty extent at " + pos;
          return -1;
        }
        visitor.extent(pos, length, e[i + 1]);
        pos += length;
      }
      seen[0] = pos;
      return 0;
    };
    LibNbd.ExtentCallback.ByValue callback = new LibNbd.ExtentCallback.ByValue(f);
    synchronized (control) {
      while (next[0] < size) {
        long count = Math.min(MAX_STATUS, size - next[0]);
        seen[0] = next[0];
        int rc = lib.nbd_block_status(control, count, next[0], callback, 0);
        if (problem[0] != null) {
          throw new NbdException(description() + ": " + problem[0], 0);
        }
        if (rc < 0) {
          throw failure(lib, endpoint, "get block status for " + context + " at " + next[0]);
        }
        if (seen[0] <= next[0]) {
          throw new NbdException(description() + ": block status for " + context + " at " + next[0]
              + " described nothing", 0);
        }
        next[0] = seen[0];
      }
    }
  }

  private static void add(List<Extent> out, long offset, long length, boolean zero) {
    if (!out.isEmpty()) {
      Extent last = out.get(out.size() - 1);
      if (last.zero() == zero && last.end() == offset) {
        out.set(out.size() - 1, new Extent(last.offset(), last.length() + length, zero));
        return;
      }
    }
    out.add(new Extent(offset, length, zero));
  }

  /** Disconnects every connection. */
  @Override
  public void close() {
    for (Pointer h : handles) {
      lib.nbd_shutdown(h, 0);
      lib.nbd_close(h);
    }
  }
}
