package org.tidemark.archive;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.Workers;
import org.tidemark.store.StoreOutput;

/**
 * The stage of an {@link ArchiveWriter} and its writes, double-buffered: a full stage is written on
 * a thread of its own while the writer fills the other one, so copying chunks into the stage (and
 * waiting for the encoders) overlaps with the device's write instead of following it. The writes
 * run one after the other on that one thread, in the order they were started: the output sees the
 * same sequence of writes as from a single thread ({@link StoreOutput} is not thread-safe).
 *
 * <p>A full stage is written while the other one fills ({@link #flip}: one such write pending at
 * most, as the stage waits to be reused). A large chunk's data written behind the caller ({@link
 * #flipWith}) takes a copy of the few bytes staged before it, so the stage is free at once and
 * such writes queue up one behind the other: the thread goes from one to the next without waiting
 * for the caller between them. The caller bounds how many are queued (each holds its buffer until
 * released).
 *
 * <p>The first failed write is reported, as the output threw it, by every later call that starts
 * or waits for a write ({@link #flip}, {@link #flipWith}, {@link #writeWith}, {@link #await}),
 * before anything is committed; the writes queued after it are skipped.
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
  /** The write started last: the others, started before it, are done when it is. */
  private Future<?> pending;
  /** The first write that failed, as the output threw it; set on the write thread. */
  private volatile Throwable failure;
  /**
   * Buffers of the copies {@link #flipWith} writes (usually a chunk's header and the bytes before
   * it, a few KiB), back from the write thread once written: as many as such writes queue up.
   */
  private final Queue<ByteBuffer> spares = new ConcurrentLinkedQueue<>();
  /** The smallest copy buffer allocated, and the largest kept for reuse. */
  private static final int SPARE_MIN = 64 << 10;
  private static final int SPARE_MAX = 1 << 20;

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
    start(new ByteBuffer[] {full}, null);
    filling = other == null ? DirectWrites.allocate(size) : other.clear();
    other = full;
  }

  /**
   * Starts writing what is staged (a copy of it) and then {@code more} (the caller's buffer) on the
   * write thread, after the writes started before, and leaves the stage holding {@code after}'s
   * remaining bytes. {@code released} runs on the write thread once the write has ended, well or
   * not, or was skipped after an earlier failure: until then the caller leaves {@code more}'s bytes
   * as they are. What is staged must end at a block boundary, and {@code after} must fit an empty
   * stage. When this throws, the write was not started and {@code released} does not run.
   */
  void flipWith(ByteBuffer more, ByteBuffer after, Runnable released) throws IOException {
    throwIfFailed();
    ByteBuffer[] parts;
    ByteBuffer copy = null;
    if (filling.position() == 0) {
      parts = new ByteBuffer[] {more};
    } else {
      copy = spare(filling.position());
      copy.put(filling.flip()).flip();
      parts = new ByteBuffer[] {copy, more};
    }
    filling.clear().put(after.duplicate());
    ByteBuffer reuse = copy;
    start(parts, () -> {
      if (reuse != null && reuse.capacity() <= SPARE_MAX) {
        spares.offer(reuse);
      }
      released.run();
    });
  }

  /** A buffer for a copy of {@code length} staged bytes: a spare one when it is large enough. */
  private ByteBuffer spare(int length) {
    ByteBuffer b = spares.poll();
    return b != null && b.capacity() >= length ? b.clear().limit(length)
        : DirectWrites.allocate(Math.max(length, SPARE_MIN)).limit(length);
  }

  /** Queues the write of {@code parts} on the write thread, then {@code released} (when not null). */
  private void start(ByteBuffer[] parts, Runnable released) {
    if (thread == null) {
      thread = Workers.pool("tidemark-archive-writer", 1); // one thread: the writes in the order started
    }
    pending = thread.submit(() -> {
      try {
        if (failure == null) {
          out.write(parts);
        }
      } catch (IOException | RuntimeException | Error e) {
        failure = e;
      } finally {
        if (released != null) {
          released.run();
        }
      }
      return null;
    });
  }

  /**
   * Writes what is staged and then {@code more} on this thread, after the pending writes; the stage
   * is empty after.
   */
  void writeWith(ByteBuffer more) throws IOException {
    await();
    out.write(filling.flip(), more);
    filling.clear();
  }

  /** Waits for the writes started: the first failure is thrown here, as the output threw it. */
  void await() throws IOException {
    Future<?> p = pending;
    if (p != null) {
      try {
        p.get();
        pending = null;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted waiting for the write of archive " + out.path());
      } catch (ExecutionException e) {
        failure = e.getCause(); // the task catches what the output throws: not expected
      }
    }
    throwIfFailed();
  }

  private void throwIfFailed() throws IOException {
    Throwable cause = failure;
    if (cause == null) {
      return;
    }
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

  /** Waits for the pending writes (their failure ignored: the archive is being discarded) and stops the thread. */
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
