package org.tidemark.libvirt;

import java.io.IOException;

/**
 * A live backup asked to freeze the guest's file systems ({@code --quiesce=required}) and the
 * guest agent did not: nothing was done (no checkpoint, no backup job, no archive).
 */
public final class QuiesceFailedException extends IOException {
  private static final long serialVersionUID = 1L;
  private final String domain;

  /** {@code domain}'s file systems could not be frozen, for {@code why}. */
  public QuiesceFailedException(String domain, String why) {
    super("domain '" + domain + "': " + why + "; nothing was done (a quiesced backup was required: install and start"
        + " qemu-guest-agent in the guest, with its channel in the domain, or back up without --quiesce=required)");
    this.domain = domain;
  }

  /** The domain. */
  public String domain() {
    return domain;
  }
}
