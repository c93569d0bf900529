package org.tidemark.archive;

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
    Optional<ParentRef> parent,
    List<DiskManifest> disks) {

  /** The format name every manifest carries. */
  public static final String FORMAT = "tidemark-backup";
  /**
   * The newest format version this code reads and the one it writes: 2 (binary index, chunks of
   * 1 MiB or more aligned, limits of {@link ArchiveLimits}); version 1 is read too.
   */
  public static final int VERSION = 2;

  /** Checks the fields and freezes the list. */
  public Manifest {
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(toolVersion, "toolVersion");
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(parent, "parent");
    disks = List.copyOf(disks);
  }

  /** A manifest of the current format version. */
  public static Manifest of(
      String toolVersion, String domain, String checkpoint, long created, Optional<ParentRef> parent,
      List<DiskManifest> disks) {
    return new Manifest(FORMAT, VERSION, toolVersion, domain, checkpoint, created, parent, disks);
  }

  /** The entry of the named disk. */
  public Optional<DiskManifest> disk(String name) {
    return disks.stream().filter(d -> d.name().equals(name)).findFirst();
  }
}
