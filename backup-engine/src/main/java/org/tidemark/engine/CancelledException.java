package org.tidemark.engine;

import java.io.InterruptedIOException;

/**
 * An operation stopped because its {@link Cancellation} was cancelled. What it was writing is
 * abandoned: a cancelled backup leaves no archive, a cancelled restore none of its outputs.
 */
public final class CancelledException extends InterruptedIOException {
  private static final long serialVersionUID = 1L;
  private final String operation;

  /** {@code operation} (for example {@code "backup of vm1/cp2"}) was cancelled. */
  public CancelledException(String operation) {
    super(operation + " cancelled");
    this.operation = operation;
  }

  /** The operation that was cancelled. */
  public String operation() {
    return operation;
  }
}
