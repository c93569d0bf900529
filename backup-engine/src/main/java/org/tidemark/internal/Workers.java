package org.tidemark.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/**
 * The worker threads that read and code chunks (backup, restore, verify).
 *
 * <p>Each worker reads a chunk, then spends CPU on it (checksum, compression). While one waits for
 * the disk, its core is free for another, so there are more workers than cores: twice as many by
 * default ({@code EngineOptions.workers}). The tasks run on a pool of the engine's own, or on the
 * caller's executor.
 */
public final class Workers {
  private Workers() {}

  /** How many workers a job with {@code tasks} independent pieces uses, at most {@code workers}: at least 1. */
  public static int count(int workers, int tasks) {
    return Math.max(1, Math.min(workers, tasks));
  }

  /**
   * The result of a worker's task. A task that failed with an {@code IOException} (a typed error
   * naming its file) rethrows it as it is; any other failure becomes an {@code IOException} saying
   * {@code failure} and the cause; an interrupted wait, an {@code InterruptedIOException} saying
   * {@code job} was interrupted.
   */
  public static <T> T await(Future<T> task, String job, String failure) throws IOException {
    try {
      return task.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(job + " interrupted");
    } catch (java.util.concurrent.CancellationException e) {
      throw new InterruptedIOException(job + " interrupted: a task was cancelled");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(failure + ": " + e.getCause(), e.getCause());
    }
  }

  /** A fixed pool of {@code threads} daemon threads named {@code name}. */
  public static ExecutorService pool(String name, int threads) {
    return Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Where one operation's tasks run: {@code threads} daemon threads named {@code name}, or the
   * caller's {@code executor} when given.
   */
  public static Pool pool(String name, int threads, Optional<Executor> executor) {
    return executor.<Pool>map(CallerPool::new).orElseGet(() -> new OwnPool(pool(name, threads)));
  }

  /** The tasks of one operation; {@link #close()} stops those not done. */
  public interface Pool extends AutoCloseable {
    /** Runs {@code task}. */
    <T> Future<T> submit(Callable<T> task);

    /** Cancels (interrupting) the tasks not done; a pool of the engine's own is shut down. */
    @Override
    void close();
  }

  private record OwnPool(ExecutorService threads) implements Pool {
    @Override
    public <T> Future<T> submit(Callable<T> task) {
      return threads.submit(task);
    }

    @Override
    public void close() {
      threads.shutdownNow();
    }
  }

  /** Tasks on the caller's executor, which is never shut down: the tasks not done are cancelled instead. */
  private static final class CallerPool implements Pool {
    private final Executor executor;
    private final Set<Future<?>> pending = ConcurrentHashMap.newKeySet();

    CallerPool(Executor executor) {
      this.executor = executor;
    }

    @Override
    public <T> Future<T> submit(Callable<T> task) {
      FutureTask<T> f = new FutureTask<>(task) {
        @Override
        protected void done() {
          pending.remove(this);
        }
      };
      pending.add(f);
      executor.execute(f);
      return f;
    }

    @Override
    public void close() {
      for (Future<?> f : pending) {
        f.cancel(true);
      }
    }
  }
}
