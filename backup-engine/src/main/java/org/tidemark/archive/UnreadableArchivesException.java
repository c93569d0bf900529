package org.tidemark.archive;

import java.nio.file.Path;
import java.util.List;

/**
 * A domain's chain (or the point asked for) cannot be resolved, and its folder holds archives that
 * could not be read: the one needed may be among them. {@link #unreadable()} gives each of those
 * as a {@link Finding} (archive, entry, file offset, disk, guest offset where known); the message
 * is built from them.
 */
public final class UnreadableArchivesException extends ArchiveCorruptException {
  private static final long serialVersionUID = 1L;
  private final transient List<Finding> unreadable;

  /**
   * What cannot be resolved in {@code file} (the domain's folder, or the archive whose parent is
   * missing), and the archives of the folder that could not be read (at least one).
   */
  public UnreadableArchivesException(Path file, String problem, List<Finding> unreadable) {
    super(file, problem + "; unreadable archives: " + describe(unreadable));
    if (unreadable.isEmpty()) {
      throw new IllegalArgumentException("no unreadable archives given");
    }
    this.unreadable = List.copyOf(unreadable);
  }

  /** The archives that could not be read, in scan order. */
  public List<Finding> unreadable() {
    return unreadable;
  }

  private static String describe(List<Finding> unreadable) {
    StringBuilder b = new StringBuilder();
    for (Finding f : unreadable) {
      b.append(b.length() == 0 ? "" : "; ").append(f.archive().getFileName()).append(": ").append(f.problem());
    }
    return b.toString();
  }
}
