package org.tidemark.model;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One disk of a checkpoint: the disk's target name, whether a bitmap tracks it and which, and
 * optionally the size in bytes libvirt reports with the SIZE flag. Immutable and thread-safe.
 */
public final class CheckpointDisk {
  private final String name;
  private final CheckpointType type;
  private final Optional<String> bitmap;
  private final OptionalLong size;

  private CheckpointDisk(String name, CheckpointType type, Optional<String> bitmap, OptionalLong size) {
    this.name = Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("disk name may not be empty");
    }
    this.type = Objects.requireNonNull(type, "type");
    this.bitmap = Objects.requireNonNull(bitmap, "bitmap");
    this.size = Objects.requireNonNull(size, "size");
    if (type == CheckpointType.NO && bitmap.isPresent()) {
      throw new IllegalArgumentException("disk " + name + " has checkpoint='no' but names bitmap " + bitmap.get());
    }
    if (size.isPresent() && size.getAsLong() < 0) {
      throw new IllegalArgumentException("disk " + name + " size (" + size.getAsLong() + ") may not be negative");
    }
  }

  /** A disk that the checkpoint does not track. */
  public static CheckpointDisk untracked(String name) {
    return new CheckpointDisk(name, CheckpointType.NO, Optional.empty(), OptionalLong.empty());
  }

  /** A disk tracked by the named bitmap. */
  public static CheckpointDisk bitmap(String name, String bitmap) {
    return new CheckpointDisk(name, CheckpointType.BITMAP, Optional.of(bitmap), OptionalLong.empty());
  }

  /**
   * A disk with every field given; {@code bitmap} may be absent for a {@code BITMAP} disk whose
   * bitmap name is not yet decided (libvirt then uses the checkpoint name).
   */
  public static CheckpointDisk of(String name, CheckpointType type, Optional<String> bitmap, OptionalLong size) {
    return new CheckpointDisk(name, type, bitmap, size);
  }

  /** The disk's target name in the domain ({@code vda}, {@code sdb}, ...). */
  public String name() {
    return name;
  }

  /** Whether a bitmap tracks this disk. */
  public CheckpointType type() {
    return type;
  }

  /** The bitmap's name inside the qcow2 image; absent for {@link CheckpointType#NO}. */
  public Optional<String> bitmap() {
    return bitmap;
  }

  /** The size in bytes libvirt reported with the SIZE flag, if any. */
  public OptionalLong size() {
    return size;
  }

  /** A copy with the given bitmap name. */
  public CheckpointDisk withBitmap(String bitmap) {
    return new CheckpointDisk(name, type, Optional.of(bitmap), size);
  }

  /** A copy with the given size, or none. */
  public CheckpointDisk withSize(OptionalLong size) {
    return new CheckpointDisk(name, type, bitmap, size);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CheckpointDisk d
        && name.equals(d.name)
        && type == d.type
        && bitmap.equals(d.bitmap)
        && size.equals(d.size);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, bitmap, size);
  }

  @Override
  public String toString() {
    return "CheckpointDisk{" + name + ", " + type.xmlName() + bitmap.map(b -> ", bitmap=" + b).orElse("")
        + (size.isPresent() ? ", size=" + size.getAsLong() : "") + "}";
  }
}
