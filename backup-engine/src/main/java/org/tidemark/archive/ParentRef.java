package org.tidemark.archive;

import java.util.Objects;

/**
 * The backup an incremental archive builds on.
 *
 * @param checkpoint the checkpoint the parent backup saved
 * @param archive the parent archive's file name in the same domain folder
 */
public record ParentRef(String checkpoint, String archive) {
  /** Checks the fields. */
  public ParentRef {
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(archive, "archive");
  }
}
