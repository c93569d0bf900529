package org.tidemark.archive;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.tidemark.archive.ArchiveException.Where;

/**
 * The consistency rules a sound archive and a sound chain obey, checked from their metadata alone
 * (no chunk data is read): one validator for {@link ArchiveVerifier} (which reports every
 * finding) and for a restore (which refuses at the first archive with any, before writing).
 *
 * <p>The seal of an archive is a plain SHA-256, so a manifest or index edited and resealed opens
 * without complaint; these rules are what stands between such an archive and a restore that
 * writes wrong bytes. For one archive ({@link #check(Path, Manifest, List)}):
 *
 * <ul>
 *   <li>it names a parent exactly when one of its disks is incremental;
 *   <li>each disk's extents are sorted, disjoint, inside the disk; a full disk's cover it from 0 to
 *       its virtual size, without holes;
 *   <li>each disk's chunks, in archive order, tile its data extents exactly: none overlaps another,
 *       none lies in a zero extent or outside the data extents, no data byte lacks one.
 * </ul>
 *
 * <p>For a chain, newest first ({@link #checkChain}): each archive's parent is the next one (same
 * domain, the checkpoint its parent reference names), and the parent holds every disk the child
 * has as incremental, at the same virtual size (a backup planner copies a disk whose size changed
 * in full).
 *
 * <p>Stateless and thread-safe.
 */
public final class ArchiveConsistency {
  private ArchiveConsistency() {}

  /**
   * The findings of {@link #check(Path, Manifest, List)} for an open archive, each also placed at
   * the byte of the archive file where its entry's data starts (manifest.json's, or the chunk's).
   */
  public static List<Finding> check(ArchiveReader r) {
    return check(r.path(), r.manifest(), OptionalLong.of(r.manifestDataOffset()), r.chunks());
  }

  /**
   * Checks one archive's manifest against itself and against its chunk index. Each finding names
   * its entry: {@code manifest.json} for a problem of the manifest (a disk's extents, a missing
   * parent, bytes no chunk holds), the chunk's entry (and its data offset) for a chunk out of place.
   *
   * @param chunks every chunk of the archive, in archive order
   * @return the problems found, per disk in manifest order; empty when consistent
   */
  public static List<Finding> check(Path archive, Manifest manifest, List<ChunkRecord> chunks) {
    return check(archive, manifest, OptionalLong.empty(), chunks);
  }

  /** {@link #check(Path, Manifest, List)}, with where manifest.json's data starts in the file, when known. */
  private static List<Finding> check(Path archive, Manifest manifest, OptionalLong manifestAt, List<ChunkRecord> chunks) {
    Where m = new Where(Optional.of(ArchiveWriter.MANIFEST_ENTRY), Optional.empty(), OptionalLong.empty(), manifestAt);
    List<Finding> findings = new ArrayList<>();
    List<String> incremental = manifest.disks().stream().filter(d -> !d.isFull()).map(DiskManifest::name).toList();
    if (manifest.parent().isPresent() && incremental.isEmpty()) {
      findings.add(new Finding(archive, m, "the manifest names parent '" + manifest.parent().get().archive()
          + "' but no disk is incremental (expected no parent when every disk is full)"));
    }
    for (DiskManifest d : manifest.disks()) {
      if (!d.isFull() && manifest.parent().isEmpty()) {
        findings.add(new Finding(archive, m.withGuestOffset(d.name(), 0),
            "incremental, but the manifest names no parent to build on"));
      }
      checkExtents(archive, m, d, findings);
      checkChunkTiling(archive, m, d, chunks.stream().filter(c -> c.disk().equals(d.name())).toList(), findings);
    }
    return findings;
  }

  /**
   * Checks the links of a chain as a restore resolved it.
   *
   * @param chain the archives, newest first, each the parent of the one before
   * @return the problems found; empty when consistent
   */
  public static List<Finding> checkChain(List<StoredBackup> chain) {
    Where m = Where.entry(ArchiveWriter.MANIFEST_ENTRY); // the child's; where its data starts is not kept in a scan
    List<Finding> findings = new ArrayList<>();
    for (int i = 0; i + 1 < chain.size(); i++) {
      StoredBackup child = chain.get(i);
      StoredBackup parent = chain.get(i + 1);
      Manifest c = child.manifest();
      Manifest p = parent.manifest();
      Optional<ParentRef> ref = c.parent();
      if (ref.isEmpty() || !ref.get().archive().equals(parent.id())) {
        findings.add(new Finding(child.path(), m, "the chain continues with " + parent.id()
            + " but the manifest names parent " + ref.map(ParentRef::archive).orElse("none")));
        continue;
      }
      if (!ref.get().checkpoint().equals(p.checkpoint())) {
        findings.add(new Finding(child.path(), m, "parent " + parent.id() + " saves checkpoint '" + p.checkpoint()
            + "', the manifest says '" + ref.get().checkpoint() + "'"));
      }
      if (!c.domain().equals(p.domain())) {
        findings.add(new Finding(child.path(), m, "parent " + parent.id() + " is a backup of domain '" + p.domain()
            + "', this one of '" + c.domain() + "'"));
      }
      for (DiskManifest d : c.disks()) {
        if (d.isFull()) {
          continue;
        }
        Optional<DiskManifest> base = p.disk(d.name());
        if (base.isEmpty()) {
          findings.add(new Finding(child.path(), m.withGuestOffset(d.name(), 0), "incremental on " + parent.id()
              + ", which has no disk '" + d.name() + "'"));
        } else if (base.get().virtualSize() != d.virtualSize()) {
          findings.add(new Finding(child.path(), m.withGuestOffset(d.name(), Math.min(d.virtualSize(), base.get().virtualSize())),
              "virtual size " + d.virtualSize() + ", but the disk is incremental on " + parent.id() + " where it has "
              + base.get().virtualSize() + " bytes (expected the same size: a resized disk is backed up in full)"));
        }
      }
    }
    return findings;
  }

  /** Extents sorted, disjoint and inside the disk; a full disk covered entirely (findings at {@code m}, the manifest). */
  static void checkExtents(Path archive, Where m, DiskManifest d, List<Finding> findings) {
    long pos = 0;
    for (ExtentRecord e : d.extents()) {
      if (e.offset() < pos) {
        findings.add(new Finding(archive, m.withGuestOffset(d.name(), e.offset()), "extent overlaps or is out of order (previous ends at " + pos + ")"));
      } else if (d.isFull() && e.offset() != pos) {
        findings.add(new Finding(archive, m.withGuestOffset(d.name(), pos), "full backup leaves guest bytes [" + pos + ", " + e.offset() + ") uncovered"));
      }
      if (e.end() > d.virtualSize()) {
        findings.add(new Finding(archive, m.withGuestOffset(d.name(), e.offset()), "extent ends at " + e.end() + ", past the virtual size " + d.virtualSize()));
      }
      pos = Math.max(pos, e.end());
    }
    if (d.isFull() && pos < d.virtualSize()) {
      findings.add(new Finding(archive, m.withGuestOffset(d.name(), pos), "full backup leaves guest bytes [" + pos + ", " + d.virtualSize() + ") uncovered"));
    }
  }

  /**
   * The disk's chunks, in archive order, cover its data extents exactly: each chunk starts where
   * the one before it ended or later, lies within one data extent (not in a zero extent, not
   * outside the extents), and every byte of every data extent is in a chunk.
   */
  static void checkChunkTiling(Path archive, Where m, DiskManifest d, List<ChunkRecord> chunks, List<Finding> findings) {
    TreeMap<Long, ExtentRecord> data = new TreeMap<>();
    TreeMap<Long, ExtentRecord> zeros = new TreeMap<>();
    for (ExtentRecord e : d.extents()) {
      (e.zero() ? zeros : data).putIfAbsent(e.offset(), e);
    }
    Map<ExtentRecord, List<ChunkRecord>> held = new java.util.HashMap<>();
    long previousEnd = 0;
    for (ChunkRecord c : chunks) {
      if (c.offset() < previousEnd) {
        findings.add(new Finding(archive, chunkAt(c), "chunk overlaps the one before it or is out of order"
            + " (the one before ends at " + previousEnd + ")"));
      }
      previousEnd = Math.max(previousEnd, c.end());
      Map.Entry<Long, ExtentRecord> in = data.floorEntry(c.offset());
      if (in != null && c.end() <= in.getValue().end()) {
        held.computeIfAbsent(in.getValue(), k -> new ArrayList<>()).add(c);
        continue;
      }
      Optional<ExtentRecord> zero = overlapping(zeros, c.offset(), c.end());
      findings.add(new Finding(archive, chunkAt(c), zero
          .map(z -> "chunk [" + c.offset() + ", " + c.end() + ") lies in the zero extent [" + z.offset() + ", " + z.end()
              + "), which has no data")
          .orElse("chunk [" + c.offset() + ", " + c.end() + ") lies outside the disk's data extents")));
    }
    for (ExtentRecord e : d.extents()) {
      if (e.zero()) {
        continue;
      }
      long pos = e.offset();
      List<ChunkRecord> in = new ArrayList<>(held.getOrDefault(e, List.of()));
      in.sort(Comparator.comparingLong(ChunkRecord::offset));
      for (ChunkRecord c : in) {
        if (c.offset() > pos) {
          findings.add(new Finding(archive, m.withGuestOffset(d.name(), pos), "no chunk holds the data extent's bytes from here to " + c.offset()));
        }
        pos = Math.max(pos, c.end());
      }
      if (pos < e.end()) {
        findings.add(new Finding(archive, m.withGuestOffset(d.name(), pos), "no chunk holds the data extent's bytes from here to " + e.end()));
      }
    }
  }

  /** A chunk's entry, where its data starts in the file, its disk and guest offset. */
  private static Where chunkAt(ChunkRecord c) {
    return Where.entry(ArchiveWriter.chunkEntryName(c.disk(), c.offset(), c.codec()), c.dataOffset())
        .withGuestOffset(c.disk(), c.offset());
  }

  /** A zero extent sharing a byte with {@code [from, to)}, if any. */
  private static Optional<ExtentRecord> overlapping(TreeMap<Long, ExtentRecord> zeros, long from, long to) {
    Map.Entry<Long, ExtentRecord> before = zeros.floorEntry(from);
    if (before != null && before.getValue().end() > from) {
      return Optional.of(before.getValue());
    }
    Map.Entry<Long, ExtentRecord> after = zeros.higherEntry(from);
    return after != null && after.getKey() < to ? Optional.of(after.getValue()) : Optional.empty();
  }
}
