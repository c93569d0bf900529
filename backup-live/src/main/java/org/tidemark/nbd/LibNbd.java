package org.tidemark.nbd;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.util.List;

/**
 * The calls of libnbd ({@code libnbd.so.0}, Debian package {@code libnbd0}) that Tidemark uses,
 * bound through JNA. Loaded on first use only: nothing else in Tidemark needs it.
 *
 * <p>Types: {@code uint64_t}, {@code int64_t} and {@code size_t} are Java {@code long} (64-bit
 * Linux), {@code uint32_t} is {@code int}. libnbd handles are thread-safe; a synchronous call holds
 * its handle's lock for the whole request, so parallel reads need one handle per thread.
 */
interface LibNbd extends Library {
  /** {@code nbd_block_status} flag: the server must not return more than was asked. */
  int CMD_FLAG_REQ_ONE = 1 << 3;
  /** {@code base:allocation}: the range is a hole (not allocated). */
  int STATE_HOLE = 1;
  /** {@code base:allocation}: the range reads as zeros. */
  int STATE_ZERO = 2;
  /** {@code qemu:dirty-bitmap:*}: the range is dirty. */
  int STATE_DIRTY = 1;

  Pointer nbd_create();

  void nbd_close(Pointer h);

  String nbd_get_error();

  int nbd_get_errno();

  int nbd_set_export_name(Pointer h, String exportName);

  int nbd_add_meta_context(Pointer h, String name);

  int nbd_connect_unix(Pointer h, String socketPath);

  int nbd_connect_tcp(Pointer h, String hostname, String port);

  long nbd_get_size(Pointer h);

  int nbd_can_meta_context(Pointer h, String name);

  int nbd_can_multi_conn(Pointer h);

  int nbd_is_read_only(Pointer h);

  int nbd_pread(Pointer h, Pointer buf, long count, long offset, int flags);

  /**
   * Whether {@code nbd_pread} zeroes the caller's buffer before each read (libnbd 1.12 and later;
   * on by default): a guard for callers that ignore errors, at the cost of a memset of every byte
   * read.
   */
  int nbd_set_pread_initialize(Pointer h, boolean request);

  /** 1 when {@code nbd_pread} zeroes the buffer first, else 0 (libnbd 1.12 and later). */
  int nbd_get_pread_initialize(Pointer h);

  int nbd_block_status(Pointer h, long count, long offset, ExtentCallback.ByValue callback, int flags);

  int nbd_shutdown(Pointer h, int flags);

  /** {@code int (*)(void *user_data, const char *metacontext, uint64_t offset, uint32_t *entries, size_t nr_entries, int *error)}. */
  interface ExtentFunction extends Callback {
    int invoke(Pointer userData, String metacontext, long offset, Pointer entries, long nrEntries, Pointer error);
  }

  /** {@code nbd_extent_callback}: the function, its user data and a free function (unused: null). */
  class ExtentCallback extends Structure {
    public ExtentFunction callback;
    public Pointer user_data;
    public Pointer free;

    @Override
    protected List<String> getFieldOrder() {
      return List.of("callback", "user_data", "free");
    }

    /** The struct passed by value, as {@code nbd_block_status} takes it. */
    static final class ByValue extends ExtentCallback implements Structure.ByValue {
      ByValue(ExtentFunction f) {
        callback = f;
      }
    }
  }

  /** The library, loaded once; the error names the package to install when it is missing. */
  final class Holder {
    private static volatile LibNbd instance;

    private Holder() {}

    static LibNbd get() throws NbdException {
      LibNbd l = instance;
      if (l == null) {
        synchronized (Holder.class) {
          if (instance == null) {
            try {
              instance = Native.load("nbd", LibNbd.class);
            } catch (UnsatisfiedLinkError e) {
              throw new NbdException("libnbd is not installed (libnbd.so.0 was not found; Debian/Ubuntu: apt-get install"
                  + " libnbd0): a live backup reads the disks over NBD through it", 0);
            }
          }
          l = instance;
        }
      }
      return l;
    }
  }
}
