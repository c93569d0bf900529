package org.tidemark.backup;

/**
 * A last check a backup makes once all its data is written and before its archive is forced to
 * disk and given its final name. When the check throws, the archive is discarded (nothing of it
 * stays in the repository) and the backup fails with a {@link BackupAbortedException} that
 * carries the check's exception.
 *
 * <p>This lets work that must succeed for the backup to count run while the data is copied: the
 * command line validates the checkpoint XML against libvirt's full grammar this way, in parallel
 * with the copy, so that a backup never waits for that grammar to compile.
 */
@FunctionalInterface
public interface BeforeCommit {
  /** Nothing to check. */
  BeforeCommit NONE = () -> {};

  /**
   * Checks, possibly waiting for work started earlier.
   *
   * @throws Exception to abort the backup
   */
  void check() throws Exception;
}
