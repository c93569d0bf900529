package org.tidemark.libvirt;

import java.io.IOException;

/**
 * A libvirt call of a live backup failed: the domain, what was asked, and libvirt's own message
 * (which names the checkpoint, disk or job concerned).
 */
public final class LibvirtBackupException extends IOException {
  private static final long serialVersionUID = 1L;
  private final String domain;

  /** A failure of {@code what} on {@code domain}, with libvirt's message. */
  public LibvirtBackupException(String domain, String what, Throwable cause) {
    super("domain '" + domain + "': cannot " + what + ": " + message(cause), cause);
    this.domain = domain;
  }

  /** The domain concerned. */
  public String domain() {
    return domain;
  }

  private static String message(Throwable cause) {
    String m = cause.getMessage();
    return m == null || m.isBlank() ? cause.getClass().getSimpleName() : m.strip();
  }
}
