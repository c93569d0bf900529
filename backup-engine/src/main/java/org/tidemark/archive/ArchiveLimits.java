package org.tidemark.archive;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The limits of the archive format, shared by {@link ArchiveWriter} and {@link ArchiveReader} so
 * that whatever one writes the other reads: a writer refuses (with {@link ArchiveLimitException},
 * before anything is committed) what a reader would refuse.
 *
 * <p>The figures fit together so that every metadata entry stays under {@link #MAX_METADATA}
 * by construction: the index of version 2 takes {@value #INDEX_HEADER} bytes plus {@value
 * #INDEX_RECORD} per chunk, at most {@code 16 + 24 x 2^21} = 48 MiB; the manifest holds at most
 * {@value #MAX_EXTENTS} extents (about 100 bytes of JSON each, 13 MiB) and {@value #MAX_DISKS}
 * disks. A single disk of {@link #MAX_DISK_SIZE} bytes, all data, fits in {@link #MAX_CHUNKS}
 * chunks of {@link #MAX_CHUNK} bytes.
 */
public final class ArchiveLimits {
  /** The largest metadata entry ({@code checkpoint.xml}, {@code manifest.json}, the index, the seal), in bytes. */
  public static final int MAX_METADATA = 64 << 20;
  /** The largest chunk, in guest bytes. */
  public static final int MAX_CHUNK = 16 << 20;
  /** The most chunks one archive of version 2 holds. */
  public static final int MAX_CHUNKS = 1 << 21;
  /** The most extents the manifest of one archive of version 2 lists, all disks together. */
  public static final int MAX_EXTENTS = 1 << 17;
  /** The most disks one archive of version 2 holds (a chunk names its disk by a 16-bit number). */
  public static final int MAX_DISKS = 1 << 12;
  /** The largest disk a backup copies: {@link #MAX_CHUNKS} chunks of {@link #MAX_CHUNK} bytes, 32 TiB. */
  public static final long MAX_DISK_SIZE = (long) MAX_CHUNKS * MAX_CHUNK;
  /** The largest disk a manifest may describe, in bytes (2^56, as for qcow2 images); older archives only. */
  public static final long MAX_VIRTUAL_SIZE = 1L << 56;

  /** Bytes of the binary index's header: magic, record size, record count. */
  static final int INDEX_HEADER = 16;
  /** Bytes of one record of the binary index. */
  static final int INDEX_RECORD = 24;

  private ArchiveLimits() {}

  /** The size of a binary index of {@code chunks} records. */
  static long indexBytes(long chunks) {
    return INDEX_HEADER + INDEX_RECORD * chunks;
  }

  /**
   * What is wrong with a manifest's disks: the disk concerned, if one is, and the problem in words.
   *
   * @param disk the disk the problem is about, if it is about one
   * @param text what is wrong, with the value found and the range expected
   */
  record ManifestProblem(Optional<String> disk, String text) {}

  /**
   * Why the manifest's disks cannot be written or read, or null: each disk's name can be a file
   * name (a restore writes {@code NAME.raw} in its output folder, so a name with a slash or a
   * leading dot could write elsewhere), appears once, and its virtual size is between 0 and
   * {@link #MAX_VIRTUAL_SIZE}; for version 2 ({@code bounded}), at most {@link #MAX_DISKS} disks
   * and {@link #MAX_EXTENTS} extents.
   */
  static ManifestProblem manifestProblem(Manifest manifest, boolean bounded) {
    Set<String> names = new HashSet<>();
    long extents = 0;
    for (DiskManifest d : manifest.disks()) {
      String n = d.name();
      if (n.isEmpty() || n.startsWith(".") || n.length() > 255 || n.chars().anyMatch(c -> c == '/' || c == '\\' || c < 0x20)) {
        return new ManifestProblem(Optional.of(n), "disk name '" + n.replaceAll("\\p{Cntrl}", "?")
            + "' cannot name a file (expected 1 to 255 characters, no '/', '\\' or control characters, no leading '.')");
      }
      if (!names.add(n)) {
        return new ManifestProblem(Optional.of(n), "disk '" + n + "' appears twice");
      }
      if (d.virtualSize() < 0 || d.virtualSize() > MAX_VIRTUAL_SIZE) {
        return new ManifestProblem(Optional.of(n), "disk '" + n + "' has virtual size " + d.virtualSize()
            + " (expected 0 to " + MAX_VIRTUAL_SIZE + ")");
      }
      extents += d.extents().size();
    }
    if (bounded && manifest.disks().size() > MAX_DISKS) {
      return new ManifestProblem(Optional.empty(), manifest.disks().size() + " disks (expected at most " + MAX_DISKS + ")");
    }
    if (bounded && extents > MAX_EXTENTS) {
      return new ManifestProblem(Optional.empty(), extents + " extents (expected at most " + MAX_EXTENTS + " in all)");
    }
    return null;
  }
}
