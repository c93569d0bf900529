package org.tidemark.archive;

import java.util.List;
import java.util.Objects;

/**
 * What an archive holds for one disk.
 *
 * @param name the disk's target name ({@code vda})
 * @param kind {@code full} or {@code incremental}
 * @param decision the stable code of why ({@code no-base-backup}, {@code incremental},
 *     {@code bitmap-in-use}, ...)
 * @param reason the decision in words, with its details
 * @param virtualSize the guest-visible size of the disk in bytes
 * @param granularity the bitmap granularity (incremental) or cluster size (full) the extents are
 *     aligned to
 * @param extents the guest ranges this archive covers, sorted, not overlapping: for a full backup
 *     they cover the whole disk; for an incremental one, the ranges changed since the parent
 */
public record DiskManifest(
    String name,
    String kind,
    String decision,
    String reason,
    long virtualSize,
    long granularity,
    List<ExtentRecord> extents) {

  /** A full backup of the disk. */
  public static final String FULL = "full";
  /** An incremental backup of the disk. */
  public static final String INCREMENTAL = "incremental";

  /** Checks the fields and freezes the list. */
  public DiskManifest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(decision, "decision");
    Objects.requireNonNull(reason, "reason");
    extents = List.copyOf(extents);
  }

  /** Whether this disk's data is complete in this archive alone. */
  public boolean isFull() {
    return FULL.equals(kind);
  }

  /** Bytes of guest data this archive stores for the disk (zero extents excluded). */
  public long dataBytes() {
    return extents.stream().filter(e -> !e.zero()).mapToLong(ExtentRecord::length).sum();
  }
}
