package org.tidemark.engine;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A token with which a caller stops a backup, restore or verify from any thread. The engine checks
 * it between chunks; once it is cancelled, the operation abandons what it was writing and throws
 * {@link CancelledException}. A token stays cancelled; use a new one per operation. Thread-safe.
 */
public final class Cancellation {
  private static final Cancellation NEVER = new Cancellation(false);

  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final boolean cancellable;

  private Cancellation(boolean cancellable) {
    this.cancellable = cancellable;
  }

  /** A new token, not cancelled. */
  public static Cancellation create() {
    return new Cancellation(true);
  }

  /** A token that is never cancelled. */
  public static Cancellation none() {
    return NEVER;
  }

  /**
   * Asks the operation holding this token to stop.
   *
   * @throws UnsupportedOperationException on {@link #none()}
   */
  public void cancel() {
    if (!cancellable) {
      throw new UnsupportedOperationException("Cancellation.none() cannot be cancelled: use Cancellation.create()");
    }
    cancelled.set(true);
  }

  /** Whether {@link #cancel()} was called. */
  public boolean isCancelled() {
    return cancelled.get();
  }

  /**
   * Throws when cancelled.
   *
   * @throws CancelledException naming {@code operation} when {@link #cancel()} was called
   */
  public void check(String operation) throws CancelledException {
    if (cancelled.get()) {
      throw new CancelledException(operation);
    }
  }
}
