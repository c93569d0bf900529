package org.tidemark.restore;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What to restore and where.
 *
 * @param domain the domain whose backups to restore
 * @param checkpoint the checkpoint to restore; empty for the newest backup
 * @param disk the one disk to restore; empty for every disk of the backup
 * @param directory where the disk images ({@code DISK.raw} or {@code DISK.qcow2}) and the domain
 *     XML ({@code DOMAIN.xml}) are written; created if missing
 * @param overwrite replace existing files of the same names
 * @param format the format the disk images are written in
 * @param newName a new name for the restored domain definition ({@code NEWNAME.xml}, with a new
 *     UUID and new MAC addresses: a second domain beside the original); empty to keep the
 *     original's name and identity ({@code DOMAIN.xml})
 */
public record RestoreRequest(
    String domain, Optional<String> checkpoint, Optional<String> disk, Path directory, boolean overwrite,
    ImageFormat format, Optional<String> newName) {
  /** Checks the fields. */
  public RestoreRequest {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(newName, "newName");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(disk, "disk");
    Objects.requireNonNull(directory, "directory");
  }

  /** A restore keeping the domain's name ({@code newName} empty). */
  public RestoreRequest(String domain, Optional<String> checkpoint, Optional<String> disk, Path directory, boolean overwrite,
      ImageFormat format) {
    this(domain, checkpoint, disk, directory, overwrite, format, Optional.empty());
  }

  /** A restore to raw images ({@link ImageFormat#RAW}). */
  public RestoreRequest(String domain, Optional<String> checkpoint, Optional<String> disk, Path directory, boolean overwrite) {
    this(domain, checkpoint, disk, directory, overwrite, ImageFormat.RAW);
  }
}
