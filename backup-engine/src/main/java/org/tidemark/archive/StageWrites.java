package org.tidemark.archive;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.tidemark.internal.DirectWrites;
import org.tidemark.store.StoreOutput;

/**
 * The stage of an {@link ArchiveWriter} and its writes, double-buffered: a full stage is written on
 * a thread of its own while the writer fills the other one, so copying chunks into the stage (and
 * waiting for the encoders) overlaps with the device's write instead of following it. One write is
 * pending at most, and every write to the output, pending or not, comes after the previous one has
 * returned: the output sees the same sequence of writes as from a single thread ({@link
 * StoreOutput} is not thread-safe). A failed write is reported by the next call that waits for it
 * ({@link #flip}, {@link #await}), before anything is committed.
 *
 * <p>Not thread-safe: the writer's thread calls every method.
 */
final class StageWrites {
  private final StoreOutput out;
  private final int size;
  private ByteBuffer filling;
  /** The other stage: being written while {@link #pending} is not done, free after. */
  private ByteBuffer other;
  private ExecutorService thread;
  private Future<?> pending;

  StageWrites(StoreOutput out, int size) {
    this.out = out;
    this.size = size;
    this.filling = DirectWrites.allocate(size);
  }

  /** The stage being filled: its position is the bytes staged so far. */
  ByteBuffer stage() {
    return filling;
  }

  /**
   * Starts writing what is staged, on the write thread, and makes the other stage (empty) the one
   * being filled, once its own write is done.
   */
  void flip() throws IOException {
    await();
    ByteBuffer full = filling.flip();
    pending = thread().submit(() -> {
      out.write(full);
      return null;
    });
    filling = other == null ? DirectWrites.allocate(size) : other.clear();
    other = full;
  }

  /**
   * Writes what is staged and then {@code more} on this thread, after the pending write; the stage
   * is empty after.
   */
  void writeWith(ByteBuffer more) throws IOException {
    await();
    out.write(filling.flip(), more);
    filling.clear();
  }

  /**
   * Starts writing what is staged and then {@code more} (the caller's buffer) on the write thread,
   * and makes the other stage, holding a copy of {@code after}'s remaining bytes, the one being
   * filled. {@code released} runs on the write thread once the write has ended, well or not (a
   * failure is thrown by the next call that waits for it): until then the caller leaves {@code
   * more}'s bytes as they are. {@code after} must fit an empty stage. When this throws, the write
   * was not started and {@code released} does not run.
   */
  void flipWith(ByteBuffer more, ByteBuffer after, Runnable released) throws IOException {
    await();
    ByteBuffer full = filling.flip();
    ByteBuffer next = other == null ? DirectWrites.allocate(size) : other.clear();
    next.put(after.duplicate());
    pending = thread().submit(() -> {
      try {
        out.write(full, more);
      } finally {
        released.run();
      }
      return null;
    });
    filling = next;
    other = full;
  }

  private ExecutorService thread() {
    if (thread == null) {
      thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tidemark-archive-writer");
        t.setDaemon(true);
        return t;
      });
    }
    return thread;
  }

  /** Waits for the pending write: its failure is thrown here, as the output threw it. */
  void await() throws IOException {
    Future<?> p = pending;
    if (p == null) {
      return;
    }
    pending = null;
    try {
      p.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting for the write of archive " + out.path());
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException r) {
        throw r;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IOException("writing archive " + out.path() + " failed: " + cause, cause);
    }
  }

  /** Waits for the pending write (its failure ignored: the archive is being discarded) and stops the thread. */
  void stop() {
    try {
      await();
    } catch (IOException | RuntimeException e) {
      // discarded with the archive
    } finally {
      if (thread != null) {
        thread.shutdown();
      }
    }
  }
}
