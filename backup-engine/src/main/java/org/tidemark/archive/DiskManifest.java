package org.tidemark.archive;

import java.util.List;
import java.util.Objects;

/**
 * What an archive holds for one disk.
 *
 * @param name the disk's target name ({@code vda})
 * @param kind {@link DiskDecision.Kind#FULL} or {@link DiskDecision.Kind#INCREMENTAL}, written as its
 *     {@link DiskDecision.Kind#code() code}
 * @param decision why ({@link DiskDecision#NO_BASE_BACKUP}, {@link DiskDecision#INCREMENTAL}, {@link
 *     DiskDecision#CONSOLIDATED}, ...), written as its {@link DiskDecision#code() code}
 * @param reason the decision in words, with its details
 * @param virtualSize the guest-visible size of the disk in bytes
 * @param granularity the bitmap granularity (incremental) or cluster size (full) the extents are
 *     aligned to
 * @param extents the guest ranges this archive covers, sorted, not overlapping: for a full backup
 *     they cover the whole disk; for an incremental one, the ranges changed since the parent
 */
public record DiskManifest(
    String name,
    DiskDecision.Kind kind,
    DiskDecision decision,
    String reason,
    long virtualSize,
    long granularity,
    List<ExtentRecord> extents) {

  /** A full backup of the disk. */
  public static final DiskDecision.Kind FULL = DiskDecision.Kind.FULL;
  /** An incremental backup of the disk. */
  public static final DiskDecision.Kind INCREMENTAL = DiskDecision.Kind.INCREMENTAL;

  /**
   * Checks the fields and freezes the list.
   *
   * @throws IllegalArgumentException for the kind {@link DiskDecision.Kind#SKIPPED} (a skipped disk
   *     has no entry)
   */
  public DiskManifest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(decision, "decision");
    Objects.requireNonNull(reason, "reason");
    if (kind == DiskDecision.Kind.SKIPPED) {
      throw new IllegalArgumentException("kind '" + kind.code() + "' (expected 'full' or 'incremental')");
    }
    extents = List.copyOf(extents);
  }

  /** Whether this disk's data is complete in this archive alone. */
  public boolean isFull() {
    return kind == FULL;
  }

  /** Bytes of guest data this archive stores for the disk (zero extents excluded). */
  public long dataBytes() {
    return extents.stream().filter(e -> !e.zero()).mapToLong(ExtentRecord::length).sum();
  }
}
