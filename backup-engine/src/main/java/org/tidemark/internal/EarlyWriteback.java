package org.tidemark.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends a file's written data to the device while the file is still being written, so that the
 * final force (before the file gets its name) waits only for the last few megabytes instead of
 * the whole file.
 *
 * <p>Without it, a gigabyte written into the page cache stays there (below the kernel's background
 * threshold) until the final {@code fsync}, and the device works only after the copy is done.
 * Here, every {@value #STEP_MIB} MiB written, a background thread calls {@code fdatasync} on the
 * file (one at a time; writes carry on meanwhile). A failure there is ignored: the final force
 * reports any error of the device.
 *
 * <p>Thread-safe: {@link #wrote} may be called by several writer threads.
 */
public final class EarlyWriteback {
  static final int STEP_MIB = 32;
  private static final long STEP = (long) STEP_MIB << 20;
  private static final ExecutorService FLUSHER = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "tidemark-writeback");
    t.setDaemon(true);
    return t;
  });

  private final FileChannel channel;
  private final AtomicLong sinceLast = new AtomicLong();
  private final AtomicBoolean flushing = new AtomicBoolean();

  /** Early writeback of what is written to {@code channel}. */
  public EarlyWriteback(FileChannel channel) {
    this.channel = channel;
  }

  /** Counts {@code bytes} written; starts a background flush when enough are and none is running. */
  public void wrote(long bytes) {
    if (sinceLast.addAndGet(bytes) < STEP || !flushing.compareAndSet(false, true)) {
      return;
    }
    sinceLast.set(0);
    FLUSHER.execute(() -> {
      try {
        if (channel.isOpen()) {
          channel.force(false);
        }
      } catch (IOException e) {
        // closed meanwhile, or a device error the final force will report
      } finally {
        flushing.set(false);
      }
    });
  }
}
