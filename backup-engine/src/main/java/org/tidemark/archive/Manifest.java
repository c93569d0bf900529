package org.tidemark.archive;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The archive's manifest ({@code manifest.json}): everything known about a backup before its data
 * is copied.
 *
 * @param format always {@value #FORMAT}
 * @param formatVersion the archive format version, {@value #VERSION} for this writer
 * @param toolVersion the Tidemark version that wrote it
 * @param domain the domain name
 * @param checkpoint the checkpoint the backup saves
 * @param created when the backup started, seconds since the epoch
 * @param createdNanos the nanoseconds of that second, 0 to 999,999,999: 0 in archives of format
 *     version 2 and older (which hold whole seconds), written from version 3 on ({@link #createdAt})
 * @param parent the backup this one is incremental on; empty when every disk is full
 * @param disks one entry per disk copied, in domain order
 */
public record Manifest(
    String format,
    int formatVersion,
    String toolVersion,
    String domain,
    String checkpoint,
    long created,
    int createdNanos,
    Optional<ParentRef> parent,
    List<DiskManifest> disks) {

  /** The format name every manifest carries. */
  public static final String FORMAT = "tidemark-backup";
  /**
   * The newest format version this code reads and writes: 3, version 2 with the start of the
   * backup to the nanosecond ({@link #createdNanos}). A backup started on a whole second is written
   * as version 2 (binary index, chunks of 1 MiB or more aligned, limits of {@link ArchiveLimits}),
   * which says the same; version 1 is read too.
   */
  public static final int VERSION = 3;
  /** The newest format version that holds whole seconds only. */
  static final int WHOLE_SECONDS = 2;

  /** Checks the fields and freezes the list. */
  public Manifest {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(toolVersion, "toolVersion");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(parent, "parent");
    if (createdNanos < 0 || createdNanos > 999_999_999) {
      throw new IllegalArgumentException("createdNanos: " + createdNanos + " (expected 0 to 999999999)");
    }
    if (createdNanos != 0 && formatVersion <= WHOLE_SECONDS) {
      throw new IllegalArgumentException("createdNanos: " + createdNanos + " in format version " + formatVersion
          + " (expected 0: version " + WHOLE_SECONDS + " and older hold whole seconds)");
    }
    disks = List.copyOf(disks);
  }

  /** A manifest of a backup started at the whole second {@code created}. */
  public Manifest(String format, int formatVersion, String toolVersion, String domain, String checkpoint,
      long created, Optional<ParentRef> parent, List<DiskManifest> disks) {
    this(format, formatVersion, toolVersion, domain, checkpoint, created, 0, parent, disks);
  }

  /** A manifest of a backup started at the whole second {@code created}, format version {@value #WHOLE_SECONDS}. */
  public static Manifest of(
      String toolVersion, String domain, String checkpoint, long created, Optional<ParentRef> parent,
      List<DiskManifest> disks) {
    return of(toolVersion, domain, checkpoint, Instant.ofEpochSecond(created), parent, disks);
  }

  /**
   * A manifest of a backup started at {@code created}: format version {@value #VERSION}, or
   * {@value #WHOLE_SECONDS} when {@code created} is a whole second (the oldest version that holds it).
   */
  public static Manifest of(
      String toolVersion, String domain, String checkpoint, Instant created, Optional<ParentRef> parent,
      List<DiskManifest> disks) {
    return new Manifest(FORMAT, created.getNano() == 0 ? WHOLE_SECONDS : VERSION, toolVersion, domain, checkpoint,
        created.getEpochSecond(), created.getNano(), parent, disks);
  }

  /** When the backup started, to the nanosecond where the archive says (format version 3). */
  public Instant createdAt() {
    return Instant.ofEpochSecond(created, createdNanos);
  }

  /** The entry of the named disk. */
  public Optional<DiskManifest> disk(String name) {
    return disks.stream().filter(d -> d.name().equals(name)).findFirst();
  }
}
