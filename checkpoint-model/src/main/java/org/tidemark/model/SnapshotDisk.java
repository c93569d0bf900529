package org.tidemark.model;

import java.util.Objects;
import java.util.Optional;

/**
 * One {@code <disk>} of a snapshot: the disk name and how it is snapshotted. Immutable.
 *
 * @param name the disk's target name (or source path, as libvirt allows)
 * @param snapshot the snapshot location: {@code no}, {@code internal}, {@code external} or
 *     {@code manual}; absent for the default
 * @param sourceType the {@code type} attribute of the disk ({@code file}, {@code block}, ...), when given
 * @param driverType the format of the new overlay ({@code <driver type='qcow2'/>}), when given
 * @param sourceFile the overlay file of an external snapshot ({@code <source file='...'/>}), when given
 */
public record SnapshotDisk(
    String name,
    Optional<String> snapshot,
    Optional<String> sourceType,
    Optional<String> driverType,
    Optional<String> sourceFile) {

  /** Checks the fields. */
  public SnapshotDisk {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(snapshot, "snapshot");
    Objects.requireNonNull(sourceType, "sourceType");
    Objects.requireNonNull(driverType, "driverType");
    Objects.requireNonNull(sourceFile, "sourceFile");
  }
}
