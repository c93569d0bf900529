package org.tidemark.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The worker threads that read and code chunks (backup, restore, verify).
 *
 * <p>Each worker reads a chunk, then spends CPU on it (checksum, compression). While one waits for
 * the disk, its core is free for another, so there are more workers than cores: twice as many by
 * default. The system property {@code tidemark.workers} sets the number.
 */
public final class Workers {
  private Workers() {}

  /** How many workers a job with {@code tasks} independent pieces uses: at least 1. */
  public static int count(int tasks) {
    int n = Integer.getInteger("tidemark.workers", 2 * Runtime.getRuntime().availableProcessors());
    return Math.max(1, Math.min(n, tasks));
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
}
