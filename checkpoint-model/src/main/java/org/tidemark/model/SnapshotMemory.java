package org.tidemark.model;

import java.util.Objects;
import java.util.Optional;

/**
 * The {@code <memory>} element of a snapshot: how the guest memory was saved. Immutable.
 *
 * @param snapshot {@code no}, {@code internal}, {@code external} or {@code manual}
 * @param file the memory file of an external snapshot, when given
 */
public record SnapshotMemory(String snapshot, Optional<String> file) {
  /** Checks the fields. */
  public SnapshotMemory {
    Objects.requireNonNull(snapshot, "snapshot");
    Objects.requireNonNull(file, "file");
  }
}
