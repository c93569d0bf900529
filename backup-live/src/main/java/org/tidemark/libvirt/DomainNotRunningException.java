package org.tidemark.libvirt;

import java.io.IOException;

/**
 * A live backup was asked of a domain that is not running: libvirt creates no checkpoint for an
 * inactive domain. Its disks are consistent on file then: back them up from their images
 * ({@code tidemark backup --checkpoint FILE}, with the bitmaps QEMU wrote at shutdown).
 */
public final class DomainNotRunningException extends IOException {
  private static final long serialVersionUID = 1L;
  private final String domain;

  /** The domain that is not running. */
  public DomainNotRunningException(String domain) {
    super("domain '" + domain + "' is not running: a live backup needs a running domain; back up a shut-off"
        + " domain from its disk images with --checkpoint FILE (virsh checkpoint-dumpxml)");
    this.domain = domain;
  }

  /** The domain. */
  public String domain() {
    return domain;
  }
}
