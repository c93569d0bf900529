package org.tidemark.store;

import java.nio.file.FileSystemException;

/**
 * A store cannot make an object visible under its name atomically without the risk of replacing
 * an object of that name: the file system has neither hard links nor an atomic rename (some
 * non-default NIO file systems, some FUSE mounts), or an object store has no conditional write.
 * The pending object is discarded; nothing under the name changed.
 */
public final class CommitUnsupportedException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** The commit of {@code file} failed because of {@code reason}. */
  public CommitUnsupportedException(String file, String reason) {
    super(file, null, reason);
  }
}
