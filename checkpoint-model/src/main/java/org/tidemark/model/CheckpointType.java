package org.tidemark.model;

import java.util.Locale;

/** How a checkpoint tracks a disk: libvirt's {@code checkpoint='no'|'bitmap'} attribute. */
public enum CheckpointType {
  /** The disk is not part of the checkpoint. */
  NO,
  /** A persistent dirty bitmap in the disk's qcow2 image records changes since the checkpoint. */
  BITMAP;

  /** The attribute value libvirt writes: {@code no} or {@code bitmap}. */
  public String xmlName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses the attribute value.
   *
   * @throws IllegalArgumentException when the value is neither {@code no} nor {@code bitmap}
   */
  public static CheckpointType fromXmlName(String value) {
    for (CheckpointType t : values()) {
      if (t.xmlName().equals(value)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown checkpoint type '" + value + "' (expected: no, bitmap)");
  }
}
