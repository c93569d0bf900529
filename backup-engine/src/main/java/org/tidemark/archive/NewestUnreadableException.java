package org.tidemark.archive;

import java.nio.file.Path;
import java.util.List;

/**
 * A restore of a domain's newest point (no checkpoint named) found the newest archive unreadable:
 * it is refused rather than an older point taken. {@link #restorable()} lists the checkpoints that
 * can be restored by naming them.
 */
public final class NewestUnreadableException extends ArchiveCorruptException {
  private static final long serialVersionUID = 1L;
  private final List<String> restorable;

  /** The newest {@code archive} cannot be read; {@code restorable} can be restored instead, newest first. */
  public NewestUnreadableException(Path archive, String message, List<String> restorable) {
    this(archive, Where.ARCHIVE, message, restorable);
  }

  /** As {@link #NewestUnreadableException(Path, String, List)}, with where in the archive the damage is. */
  public NewestUnreadableException(Path archive, Where where, String message, List<String> restorable) {
    super(archive, where, message);
    this.restorable = List.copyOf(restorable);
  }

  /** The checkpoints that can be restored by naming them, newest first. */
  public List<String> restorable() {
    return restorable;
  }
}
