package org.tidemark.archive;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A backup archive found in a repository, with its manifest (read from the archive itself).
 *
 * @param path the archive file
 * @param manifest its manifest
 * @param size the archive's size in bytes
 */
public record StoredBackup(Path path, Manifest manifest, long size) {
  /** Checks the fields. */
  public StoredBackup {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(manifest, "manifest");
  }

  /** The archive's file name: its identifier within the domain's folder. */
  public String id() {
    return path.getFileName().toString();
  }

  /** The checkpoint the backup saved. */
  public String checkpoint() {
    return manifest.checkpoint();
  }
}
