package org.tidemark.restore;

import java.util.Objects;
import java.util.Optional;

/**
 * What to restore; where it goes is the {@link RestoreTarget} ({@link RestoreTarget#folder} for the
 * default layout). Built by {@link #builder(String)}, which restores the newest backup of every disk,
 * as raw images, under the domain's own name unless told otherwise.
 *
 * @param domain the domain whose backups to restore
 * @param checkpoint the checkpoint to restore; empty for the newest backup
 * @param disk the one disk to restore; empty for every disk of the backup
 * @param format the format the disk images are written in
 * @param newName a new name for the restored domain definition ({@code NEWNAME.xml}, with a new
 *     UUID and new MAC addresses: a second domain beside the original); empty to keep the
 *     original's name and identity ({@code DOMAIN.xml})
 */
public record RestoreRequest(
    String domain, Optional<String> checkpoint, Optional<String> disk, ImageFormat format, Optional<String> newName) {
  /** Checks the fields. */
  public RestoreRequest {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(disk, "disk");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(newName, "newName");
  }

  /** A builder restoring the newest backup of every disk of {@code domain} as raw images, keeping its name. */
  public static Builder builder(String domain) {
    return new Builder(Objects.requireNonNull(domain, "domain"));
  }

  /** Builds a {@link RestoreRequest}; each setter replaces the default. */
  public static final class Builder {
    private final String domain;
    private Optional<String> checkpoint = Optional.empty();
    private Optional<String> disk = Optional.empty();
    private ImageFormat format = ImageFormat.RAW;
    private Optional<String> newName = Optional.empty();

    private Builder(String domain) {
      this.domain = domain;
    }

    /** Restores the backup of {@code checkpoint} instead of the newest. */
    public Builder checkpoint(String checkpoint) {
      return checkpoint(Optional.of(checkpoint));
    }

    /** Restores the backup of the checkpoint, if present; the newest if empty (the default). */
    public Builder checkpoint(Optional<String> checkpoint) {
      this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
      return this;
    }

    /** Restores only {@code disk}. */
    public Builder disk(String disk) {
      return disk(Optional.of(disk));
    }

    /** Restores only the disk, if present; every disk if empty (the default). */
    public Builder disk(Optional<String> disk) {
      this.disk = Objects.requireNonNull(disk, "disk");
      return this;
    }

    /** Writes the images in {@code format} ({@link ImageFormat#RAW} by default). */
    public Builder format(ImageFormat format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /** Restores the domain definition under {@code newName}, as a second domain beside the original. */
    public Builder newName(String newName) {
      return newName(Optional.of(newName));
    }

    /** Restores under the new name, if present; under the domain's own name if empty (the default). */
    public Builder newName(Optional<String> newName) {
      this.newName = Objects.requireNonNull(newName, "newName");
      return this;
    }

    /** The request. */
    public RestoreRequest build() {
      return new RestoreRequest(domain, checkpoint, disk, format, newName);
    }
  }
}
