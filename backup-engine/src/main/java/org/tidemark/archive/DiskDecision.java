package org.tidemark.archive;

import java.util.Locale;

/**
 * Why a disk is backed up the way it is. Each value has a stable code (the {@code decision} of a disk
 * in the archive manifest, and of the JSON output) and says, for the full-backup fallbacks, what went
 * wrong and what to do. The planner chooses among all but {@link #CONSOLIDATED}, which only
 * consolidation writes.
 */
public enum DiskDecision {
  /** Incremental: only the clusters the bitmaps mark as changed since the base checkpoint. */
  INCREMENTAL(Kind.INCREMENTAL, "changed clusters since the base checkpoint, from its bitmaps"),
  /** Full because the user asked for it. */
  FORCED_FULL(Kind.FULL, "a full copy was asked for"),
  /** Full because the repository holds no backup of an ancestor of the checkpoint. */
  NO_BASE_BACKUP(Kind.FULL, "the repository holds no backup of an ancestor of this checkpoint"),
  /** Full because an intermediate checkpoint between the base and this one is unknown. */
  CHECKPOINT_CHAIN_INCOMPLETE(
      Kind.FULL, "a checkpoint between the base backup and this one is missing from the checkpoint directory"),
  /** Full because the disk has {@code checkpoint='no'}: no bitmap tracks it. */
  NOT_TRACKED(Kind.FULL, "no bitmap tracks this disk (checkpoint='no'): it is copied in full every time"),
  /** Full because the base backup did not contain this disk. */
  NEW_DISK(Kind.FULL, "the base backup does not contain this disk"),
  /**
   * Full because the disk's image is another file than at the base checkpoint (the source its domain
   * names changed, and the image lacks the base's bitmap).
   */
  DISK_REPLACED(Kind.FULL, "the disk's image was replaced since the base checkpoint: the new one lacks its bitmap"),
  /** Full because the disk's virtual size differs from the base backup's. */
  SIZE_CHANGED(Kind.FULL, "the disk's virtual size changed since the base backup"),
  /** Full because a checkpoint on the path did not track this disk with a bitmap. */
  UNTRACKED_ON_PATH(Kind.FULL, "a checkpoint since the base backup did not track this disk with a bitmap"),
  /** Full because a bitmap the increment needs is not in the image. */
  BITMAP_MISSING(Kind.FULL, "a bitmap the increment needs is not in the disk image"),
  /** Full because a bitmap is flagged in use: QEMU did not close the image cleanly, so it is unreliable. */
  BITMAP_IN_USE(
      Kind.FULL, "a bitmap is flagged in-use (the image was not closed cleanly), so it cannot be trusted"),
  /** Full because a layer of the backing chain lacks the bitmap while layers above and below have it. */
  BITMAP_GAP_IN_CHAIN(Kind.FULL, "a layer of the disk's backing chain lacks the bitmap"),
  /** Full because no bitmap on the path records writes up to now (all disabled). */
  BITMAP_NOT_RECORDING(Kind.FULL, "no bitmap since the base checkpoint is still recording writes"),
  /** Full because consolidation built it from a chain of archives (written by consolidation only). */
  CONSOLIDATED(Kind.FULL, "a synthetic full built by consolidating a chain of archives"),
  /** Not backed up: the user excluded it. */
  EXCLUDED(Kind.SKIPPED, "excluded by the request"),
  /** Not backed up: the drive is read-only. */
  READ_ONLY(Kind.SKIPPED, "the drive is read-only"),
  /** Not backed up: the drive has no media. */
  EMPTY(Kind.SKIPPED, "the drive has no media");

  /** What is done with a disk. */
  public enum Kind {
    /** Every allocated cluster is copied. */
    FULL,
    /** Only changed clusters are copied. */
    INCREMENTAL,
    /** The disk is not copied. */
    SKIPPED;

    /** The stable code, the name in lower case ({@code full}): the {@code kind} of a disk in the manifest. */
    public String code() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Kind kind;
  private final String description;

  DiskDecision(Kind kind, String description) {
    this.kind = kind;
    this.description = description;
  }

  /** Full, incremental or skipped. */
  public Kind kind() {
    return kind;
  }

  /** Whether this is a full backup that was meant to be incremental (worth reporting). */
  public boolean isFallback() {
    return kind == Kind.FULL && this != FORCED_FULL && this != NOT_TRACKED && this != NO_BASE_BACKUP
        && this != CONSOLIDATED;
  }

  /** The stable code: the constant's name in lower case with dashes ({@code bitmap-in-use}). */
  public String code() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** One sentence saying what the decision means. */
  public String description() {
    return description;
  }

  /** The decision with the given {@link #code()}. */
  public static DiskDecision fromCode(String code) {
    for (DiskDecision d : values()) {
      if (d.code().equals(code)) {
        return d;
      }
    }
    throw new IllegalArgumentException("unknown disk decision '" + code + "'");
  }
}
