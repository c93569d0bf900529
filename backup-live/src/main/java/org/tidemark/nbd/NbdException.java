package org.tidemark.nbd;

import java.io.IOException;

/**
 * An NBD operation failed: libnbd's own message (which names the server and the request) and its
 * errno, or libnbd itself is missing.
 */
public final class NbdException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int errno;

  /** A failure with libnbd's message and errno (0 when none). */
  public NbdException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  /** The errno libnbd reported, 0 when none. */
  public int errno() {
    return errno;
  }
}
