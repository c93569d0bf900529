package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * Edits the manifest of a finished archive the way someone with a text editor could, and reseals
 * it ({@link ArchiveReaderFuzzTest#reseal}: the seal is an unkeyed SHA-256), so that the archive
 * opens without complaint and only the consistency rules can refuse it. The edited manifest is
 * written in place, padded with trailing spaces to its old length, so every other byte of the
 * archive stays where it was. For tests, in this module and the command line's.
 */
public final class Tampering {
  private Tampering() {}

  /** One edit of a manifest, named for test reports and seed files. */
  public record Edit(String name, UnaryOperator<Manifest> change) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * Rewrites the manifest of {@code archive} with {@code change} applied, and reseals it.
   *
   * @throws IllegalStateException when the edited manifest is longer than the old one
   */
  public static void rewriteManifest(Path archive, UnaryOperator<Manifest> change) throws IOException {
    byte[] bytes = Files.readAllBytes(archive);
    TarArchiveEntry entry = null;
    try (TarFile tar = new TarFile(archive)) {
      for (TarArchiveEntry e : tar.getEntries()) {
        if (e.getName().equals(ArchiveWriter.MANIFEST_ENTRY)) {
          entry = e;
        }
      }
    }
    if (entry == null) {
      throw new IllegalStateException(archive + " has no " + ArchiveWriter.MANIFEST_ENTRY);
    }
    int at = (int) entry.getDataOffset();
    int length = (int) entry.getSize();
    Manifest m;
    try {
      m = ArchiveJson.readManifest(Arrays.copyOfRange(bytes, at, at + length));
    } catch (JsonShapeException e) {
      throw new IllegalStateException(e);
    }
    byte[] edited = ArchiveJson.manifest(change.apply(m));
    if (edited.length > length) {
      throw new IllegalStateException("the edited manifest has " + edited.length + " bytes, the old one " + length
          + ": give the disks a longer reason to leave room");
    }
    System.arraycopy(edited, 0, bytes, at, edited.length);
    Arrays.fill(bytes, at + edited.length, at + length, (byte) ' ');
    byte[] resealed = ArchiveReaderFuzzTest.reseal(bytes);
    if (resealed == null) {
      throw new IllegalStateException(archive + " cannot be resealed");
    }
    Files.write(archive, resealed);
  }

  /** {@code m} with the disk named {@code disk} replaced by {@code change} of it. */
  public static Manifest withDisk(Manifest m, String disk, UnaryOperator<DiskManifest> change) {
    List<DiskManifest> disks = new ArrayList<>();
    for (DiskManifest d : m.disks()) {
      disks.add(d.name().equals(disk) ? change.apply(d) : d);
    }
    return new Manifest(m.format(), m.formatVersion(), m.toolVersion(), m.domain(), m.checkpoint(), m.created(),
        m.parent(), disks);
  }

  /** {@code d} with other extents (the reason emptied: the room the longer edits need). */
  public static DiskManifest withExtents(DiskManifest d, List<ExtentRecord> extents) {
    return new DiskManifest(d.name(), d.kind(), d.decision(), "", d.virtualSize(), d.granularity(), extents);
  }

  /** {@code d} of another kind. */
  public static DiskManifest withKind(DiskManifest d, DiskDecision.Kind kind) {
    return new DiskManifest(d.name(), kind, d.decision(), "", d.virtualSize(), d.granularity(), d.extents());
  }

  /** {@code d} of another virtual size. */
  public static DiskManifest withSize(DiskManifest d, long size) {
    return new DiskManifest(d.name(), d.kind(), d.decision(), "", size, d.granularity(), d.extents());
  }

  /** A reason long enough that the edits above fit in the manifest's old length. */
  public static final String ROOM = new String(new char[96]).replace('\0', '.');

  /**
   * One tampering of a two-point chain ({@link #writeChain}): the edit, the archive it is applied
   * to ({@code cp1.tar}, full; {@code cp2.tar}, incremental on it) and words the finding it
   * causes contains.
   */
  public record Case(String name, String archive, UnaryOperator<Manifest> edit, String finding) {
    @Override
    public String toString() {
      return name + " (" + archive + ")";
    }
  }

  /** The tamperings a restore must refuse as verify does, each applied to disk vda. */
  public static List<Case> cases() {
    return List.of(
        new Case("data-extent-marked-zero", "cp1.tar", m -> withDisk(m, "vda", Tampering::dataExtentMarkedZero),
            "lies in the zero extent"),
        new Case("zero-extent-overlapping-data", "cp1.tar", m -> withDisk(m, "vda", Tampering::zeroOverlappingData),
            "extent overlaps or is out of order"),
        new Case("incremental-relabelled-full", "cp2.tar", Tampering::allFull, "uncovered"),
        new Case("doubled-disk-size-incremental", "cp2.tar", m -> withDisk(m, "vda", Tampering::doubledSize),
            "a resized disk is backed up in full"),
        new Case("doubled-disk-size-full", "cp1.tar", m -> withDisk(m, "vda", Tampering::doubledSize), "uncovered"),
        new Case("holes", "cp1.tar", m -> withDisk(m, "vda", Tampering::hole), "uncovered"),
        new Case("extents-out-of-order", "cp1.tar", m -> withDisk(m, "vda", Tampering::outOfOrder),
            "extent overlaps or is out of order"));
  }

  /** The first data extent marked zero (its chunks stay). */
  public static DiskManifest dataExtentMarkedZero(DiskManifest d) {
    List<ExtentRecord> x = new ArrayList<>(d.extents());
    int i = indexOf(x, false);
    x.set(i, new ExtentRecord(x.get(i).offset(), x.get(i).length(), true));
    return withExtents(d, x);
  }

  /** The first zero extent followed by a data extent grown over half of it. */
  public static DiskManifest zeroOverlappingData(DiskManifest d) {
    List<ExtentRecord> x = new ArrayList<>(d.extents());
    for (int i = 0; i + 1 < x.size(); i++) {
      if (x.get(i).zero() && !x.get(i + 1).zero()) {
        x.set(i, new ExtentRecord(x.get(i).offset(), x.get(i).length() + Math.max(1, x.get(i + 1).length() / 2), true));
        return withExtents(d, x);
      }
    }
    throw new IllegalArgumentException("disk " + d.name() + " has no zero extent before a data extent: " + x);
  }

  /** The first data extent of 2 bytes or more cut to its first half: a hole where its chunks are. */
  public static DiskManifest hole(DiskManifest d) {
    List<ExtentRecord> x = new ArrayList<>(d.extents());
    for (int i = 0; i < x.size(); i++) {
      if (!x.get(i).zero() && x.get(i).length() >= 2) {
        x.set(i, new ExtentRecord(x.get(i).offset(), x.get(i).length() / 2, false));
        return withExtents(d, x);
      }
    }
    throw new IllegalArgumentException("disk " + d.name() + " has no data extent to cut: " + x);
  }

  /** The first two extents swapped. */
  public static DiskManifest outOfOrder(DiskManifest d) {
    List<ExtentRecord> x = new ArrayList<>(d.extents());
    java.util.Collections.swap(x, 0, 1);
    return withExtents(d, x);
  }

  /** The disk twice its size. */
  public static DiskManifest doubledSize(DiskManifest d) {
    return withSize(d, 2 * d.virtualSize());
  }

  /** Every disk relabelled full, the parent kept: the chain cut short at this archive. */
  public static Manifest allFull(Manifest m) {
    Manifest out = m;
    for (DiskManifest d : m.disks()) {
      out = withDisk(out, d.name(), x -> withKind(x, DiskManifest.FULL));
    }
    return out;
  }

  private static int indexOf(List<ExtentRecord> x, boolean zero) {
    for (int i = 0; i < x.size(); i++) {
      if (x.get(i).zero() == zero) {
        return i;
      }
    }
    throw new IllegalArgumentException("no " + (zero ? "zero" : "data") + " extent in " + x);
  }

  /**
   * Writes the chain the cases apply to in {@code repo}, domain {@code vm1}, and returns the guest
   * bytes of each disk at the newest point (cp2): cp1, full, of vda (8 KiB: data [0, 2K), zeros
   * [2K, 4K), data [4K, 6K), zeros [6K, 8K)) and vdb (4 KiB of data); cp2, incremental on cp1,
   * vda's [2K, 3K) changed, vdb unchanged. Chunks of 1 KiB, seeded content.
   */
  public static java.util.Map<String, byte[]> writeChain(Repository repo) throws IOException {
    java.util.Random r = new java.util.Random(20);
    byte[] vda = new byte[8192];
    byte[] vdb = new byte[4096];
    r.nextBytes(vdb);
    byte[] data = new byte[2048];
    r.nextBytes(data);
    System.arraycopy(data, 0, vda, 0, 2048);
    r.nextBytes(data);
    System.arraycopy(data, 0, vda, 4096, 2048);
    List<ExtentRecord> vdaFull = List.of(new ExtentRecord(0, 2048, false), new ExtentRecord(2048, 2048, true),
        new ExtentRecord(4096, 2048, false), new ExtentRecord(6144, 2048, true));
    Manifest cp1 = Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(), List.of(
        new DiskManifest("vda", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, ROOM, 8192, 1024, vdaFull),
        new DiskManifest("vdb", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, ROOM, 4096, 1024,
            List.of(new ExtentRecord(0, 4096, false)))));
    write(repo, cp1, java.util.Map.of("vda", vda, "vdb", vdb));
    byte[] changed = new byte[1024];
    r.nextBytes(changed);
    System.arraycopy(changed, 0, vda, 2048, 1024);
    Manifest cp2 = Manifest.of("test", "vm1", "cp2", 1700000100L, Optional.of(new ParentRef("cp1", "cp1.tar")), List.of(
        new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, ROOM, 8192, 1024,
            List.of(new ExtentRecord(2048, 1024, false))),
        new DiskManifest("vdb", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, ROOM, 4096, 1024, List.of())));
    write(repo, cp2, java.util.Map.of("vda", vda, "vdb", vdb));
    return java.util.Map.of("vda", vda, "vdb", vdb);
  }

  /** The guest bytes of vda at cp1, from those at cp2 ({@link #writeChain}): cp2 changed [2K, 3K) from zeros. */
  public static byte[] pointOne(byte[] vdaAtCp2) {
    byte[] out = vdaAtCp2.clone();
    Arrays.fill(out, 2048, 3072, (byte) 0);
    return out;
  }

  /** Writes an archive of {@code m} into {@code repo}, its data extents cut into 1 KiB chunks of {@code guest}. */
  private static void write(Repository repo, Manifest m, java.util.Map<String, byte[]> guest) throws IOException {
    byte[] checkpoint = ArchiveFuzzSeedsTest.checkpoint(m.checkpoint());
    try (ArchiveWriter w = ArchiveWriter.create(repo.newArchivePath(m.domain(), m.checkpoint()), checkpoint, m)) {
      for (DiskManifest d : m.disks()) {
        for (ExtentRecord e : d.extents()) {
          for (long off = e.offset(); !e.zero() && off < e.end(); off += 1024) {
            int len = (int) Math.min(1024, e.end() - off);
            byte[] raw = Arrays.copyOfRange(guest.get(d.name()), (int) off, (int) off + len);
            w.writeChunk(d.name(), EncodedChunk.encode(off, raw, len, Codec.ZSTD));
          }
        }
      }
      w.commit();
    }
  }
}
