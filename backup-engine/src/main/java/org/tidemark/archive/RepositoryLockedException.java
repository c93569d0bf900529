package org.tidemark.archive;

import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Another run holds the lock of a domain in the repository (a backup, or later a prune), so this
 * one did nothing. {@link #getFile()} names the lock file; {@link #holder()} says who holds it,
 * as that run recorded it, when it could be read.
 */
public final class RepositoryLockedException extends FileSystemException {
  private static final long serialVersionUID = 1L;
  private final String domain;
  private final String holder;

  /** The lock file of {@code domain}, and its holder's record (null when unknown). */
  public RepositoryLockedException(Path lockFile, String domain, String holder) {
    super(lockFile.toString(), null, "domain '" + domain + "' is locked by another Tidemark run"
        + (holder == null || holder.isBlank() ? "" : " (" + holder + ")")
        + "; nothing was done. Wait for it to finish, or give a lock wait to queue behind it");
    this.domain = domain;
    this.holder = holder;
  }

  /** The domain whose lock is held. */
  public String domain() {
    return domain;
  }

  /** The holder's record (process, host, operation, start), if it could be read. */
  public Optional<String> holder() {
    return Optional.ofNullable(holder).filter(h -> !h.isBlank());
  }
}
