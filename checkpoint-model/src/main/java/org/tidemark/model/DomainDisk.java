package org.tidemark.model;

import java.util.Objects;
import java.util.Optional;

/**
 * The facts Tidemark needs about one {@code <disk>} of a domain definition: its target device name,
 * its source path, its driver (image format) type, its device kind, and whether it is read-only or
 * empty (no media). Immutable and thread-safe.
 *
 * @param target the target device name ({@code <target dev='vda'/>}), unique in the domain
 * @param source the source path or name ({@code file}, {@code dev}, {@code name} or {@code volume}
 *     attribute of {@code <source>}); absent for an empty drive
 * @param driverType the image format ({@code <driver type='qcow2'/>}), when given
 * @param device the device kind ({@code disk}, {@code cdrom}, {@code floppy}, {@code lun})
 * @param readOnly whether {@code <readonly/>} is present
 * @param empty whether the drive has no media (no source)
 */
public record DomainDisk(
    String target,
    Optional<String> source,
    Optional<String> driverType,
    String device,
    boolean readOnly,
    boolean empty) {

  /** Checks the fields. */
  public DomainDisk {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(driverType, "driverType");
    Objects.requireNonNull(device, "device");
    if (target.isEmpty()) {
      throw new IllegalArgumentException("disk target may not be empty");
    }
  }

  /** A writable disk with media, of device kind {@code disk}. */
  public static DomainDisk of(String target, String source, String driverType) {
    return new DomainDisk(target, Optional.of(source), Optional.ofNullable(driverType), "disk", false, false);
  }
}
