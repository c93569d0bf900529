package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.disk.UnsupportedImageException;

/**
 * A qcow2 image opened read-only, read natively with positional reads.
 *
 * <p>The structures it relies on are documented where they are read ({@link Qcow2Header} for the
 * header, its extensions and the tables, the snapshot table's reader) and in {@code docs/qcow2.md};
 * this class puts the parts of one layer together: the header, the cluster map (L1 and cached L2
 * tables), the persistent bitmaps, the backing file and external data file, guest reads, the
 * allocation map and the snapshot table.
 *
 * <p>Every offset and size read from the file is checked against the file's size and the limits
 * below before it is used: a hostile image gets a {@link CorruptImageException}, never an
 * unchecked exception or an allocation beyond {@value #MAX_TABLE_BYTES} bytes per table. L2 tables
 * and bitmap data clusters shared between entries are refused, so that map and dirty-extent work
 * grow with the file's size (docs/reliability.md).
 * Encryption and unknown incompatible features are refused with an {@link UnsupportedImageException}
 * naming the feature. Backing files (qcow2 or raw), external data files (extension 0x44415441, data
 * clusters read from that file), extended L2 entries and compressed clusters are read; backing and
 * data files only where the {@link BackingPolicy} allows. The dirty and corrupt bits do not stop
 * reading: L1/L2 tables stay valid, refcounts are not used.
 *
 * <p>Thread-safe: reads are positional and the L2 cache is synchronized.
 */
public final class Qcow2Image implements DiskSource {
  /** The largest L1 table, bitmap directory or bitmap table read, in bytes (QEMU's own L1 limit). */
  public static final int MAX_TABLE_BYTES = 32 << 20;
  /** The deepest backing chain opened. */
  public static final int MAX_CHAIN = 32;
  /** QEMU's limit on the snapshot table's length in bytes (QCOW_MAX_SNAPSHOTS_SIZE: 1 KiB per snapshot). */
  public static final int MAX_SNAPSHOT_TABLE_BYTES = 64 << 20;

  private final Path path;
  private final ImageFile file;
  private final Qcow2Header header;
  private final ClusterMap clusters;
  private final Bitmaps bitmaps;
  private final DiskSource backing;
  /** The backing file name as the header stores it; null without a backing file. */
  private final String backingName;
  /** The backing format from the header extension; null when the header does not name one. */
  private final String backingFormat;
  /** The external data file, resolved; the image file itself without one. */
  private final Path dataPath;
  /** The external data file's channel; null without one. */
  private final FileChannel data;
  /** The holes of the external data file; null without one. */
  private final org.tidemark.internal.Holes dataHoles;
  private final ClusterReader reader;
  private final AllocationMap allocationMap;

  private Qcow2Image(Path path, ImageFile file, List<Path> chain, BackingPolicy policy, Path root) throws IOException {
    this.path = path;
    this.file = file;
    this.header = new Qcow2Header(file);
    this.clusters = new ClusterMap(file, header);
    this.bitmaps = new Bitmaps(file, header);
    if (header.backingOffset == 0) {
      backingName = null;
      backingFormat = null;
      backing = null;
    } else {
      backingName = header.backingName(file);
      backingFormat = header.backingFormat();
      backing = BackingFiles.openBacking(path, backingName, backingFormat, chain, policy, root);
    }
    if (header.dataFileName == null) {
      dataPath = path;
      data = null;
      dataHoles = null;
    } else {
      try {
        dataPath = BackingFiles.resolve(path, header.dataFileName, "external data file");
        data = BackingFiles.openDataFile(path, header.dataFileName, dataPath, policy, root);
        dataHoles = org.tidemark.internal.Holes.of(dataPath);
      } catch (IOException | RuntimeException e) {
        if (backing != null) {
          backing.close();
        }
        throw e;
      }
    }
    this.reader = new ClusterReader(file, clusters, header, data, backing);
    this.allocationMap = new AllocationMap(clusters, backing, dataHoles, file, header);
  }

  /**
   * Opens an image read-only and reads its header, L1 table and bitmap directory, following backing
   * files in the image's folder tree only ({@link BackingPolicy#sameTree()}). An image (or backing
   * file) that another process writes, by QEMU's image locks, is refused, and each is held against
   * writers while open ({@link org.tidemark.disk.ImageLocks}).
   *
   * @throws org.tidemark.disk.ImageInUseException when a running QEMU holds the image for writing
   * @throws CorruptImageException when a structure is malformed
   * @throws UnsupportedImageException when the image uses a feature this reader refuses, or is not
   *     a regular file or block device ({@link org.tidemark.disk.ImageFiles})
   * @throws BackingFileRefusedException when a backing file lies outside the image's folder tree
   */
  public static Qcow2Image open(Path path) throws IOException {
    return open(path, BackingPolicy.sameTree());
  }

  /**
   * Opens an image read-only, following the backing files {@code policy} allows.
   *
   * @throws CorruptImageException when a structure is malformed
   * @throws UnsupportedImageException when the image uses a feature this reader refuses, or is not
   *     a regular file or block device
   * @throws BackingFileRefusedException when a backing file is one the policy does not allow
   */
  public static Qcow2Image open(Path path, BackingPolicy policy) throws IOException {
    org.tidemark.disk.ImageFiles.requireDiskFile(path, path, "image");
    return openLayer(path, List.of(), policy, path.toRealPath().getParent());
  }

  /** Opens one layer of a chain below the layers {@code above} (their real paths, top first). */
  static Qcow2Image openLayer(Path path, List<Path> above, BackingPolicy policy, Path root) throws IOException {
    Path real = path.toRealPath();
    if (above.contains(real)) {
      throw new CorruptImageException(above.get(0), "the backing chain loops: " + above + " leads back to " + real);
    }
    if (above.size() >= MAX_CHAIN) {
      throw new UnsupportedImageException(above.get(0), "the backing chain is deeper than " + MAX_CHAIN + " images");
    }
    List<Path> chain = new ArrayList<>(above);
    chain.add(real);
    org.tidemark.disk.ImageLocks.checkNotInUse(path);
    FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
    ImageFile file;
    try {
      org.tidemark.disk.ImageLocks.hold(path, ch);
      file = new ImageFile(path, ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    try {
      return new Qcow2Image(path, file, chain, policy, root);
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** The image file. */
  public Path path() {
    return path;
  }

  @Override
  public String description() {
    return path.toString();
  }

  @Override
  public long virtualSize() {
    return header.size;
  }

  /** The cluster size in bytes. */
  public int clusterSize() {
    return header.clusterSize;
  }

  /** The format version, 2 or 3. */
  public int version() {
    return header.version;
  }

  /** The backing file name exactly as the header stores it, if the image has a backing file. */
  public Optional<String> backingFileName() {
    return Optional.ofNullable(backingName);
  }

  /** The backing file's format as the header extension names it ("qcow2", "raw"), if it does. */
  public Optional<String> backingFormat() {
    return Optional.ofNullable(backingFormat);
  }

  /** The external data file name exactly as the header extension stores it, if the image has one. */
  public Optional<String> dataFile() {
    return Optional.ofNullable(header.dataFileName);
  }

  /** The external data file, resolved against the image's folder, if the image has one. */
  public Optional<Path> dataFilePath() {
    return header.dataFileName == null ? Optional.empty() : Optional.of(dataPath);
  }

  /** Autoclear bit 1: the external data file alone is a valid raw image of the guest disk. */
  public boolean dataFileRaw() {
    return header.dataFileName != null && (header.autoclearFeatures & 2) != 0;
  }

  /** Incompatible bit 4: L2 entries carry subcluster bitmaps (32 subclusters per cluster). */
  public boolean extendedL2() {
    return header.extendedL2;
  }

  /** The compression type of compressed clusters: "zlib" (deflate) or "zstd". */
  public String compressionType() {
    return header.compressionType == 0 ? "zlib" : "zstd";
  }

  /** Compatible bit 0: refcounts may be updated lazily. */
  public boolean lazyRefcounts() {
    return (header.compatibleFeatures & 1) != 0;
  }

  /** Incompatible bit 0: the image was not closed cleanly while refcounts were lazy (they may be stale). */
  public boolean dirty() {
    return (header.incompatibleFeatures & 1) != 0;
  }

  /** Incompatible bit 1: QEMU found the metadata corrupt and marked the image. */
  public boolean corrupt() {
    return (header.incompatibleFeatures & 2) != 0;
  }

  /** The width of a refcount entry in bits (1 to 64). */
  public int refcountBits() {
    return 1 << header.refcountOrder;
  }

  /**
   * The internal snapshots, from the snapshot table (read on each call), within QEMU's limits: at
   * most 65536 snapshots, 1 KiB of extra data each, {@value #MAX_SNAPSHOT_TABLE_BYTES} bytes of
   * table; a table beyond them is refused before any of it is kept ({@link SnapshotTable}).
   *
   * @throws CorruptImageException when the table is malformed or beyond those limits
   */
  public List<Qcow2Snapshot> snapshots() throws IOException {
    return SnapshotTable.read(file, header);
  }

  /** The persistent bitmaps; empty when the autoclear bit says the directory is stale. */
  public List<Qcow2Bitmap> bitmaps() {
    return bitmaps.list();
  }

  /** The named bitmap, if the image has it. */
  public Optional<Qcow2Bitmap> bitmapNamed(String name) {
    return bitmaps.named(name);
  }

  /** This image and the qcow2 images below it in the backing chain, top first. */
  public List<Qcow2Image> layers() {
    List<Qcow2Image> out = new ArrayList<>();
    for (Qcow2Image q = this; q != null; q = q.backing instanceof Qcow2Image b ? b : null) {
      out.add(q);
    }
    return out;
  }

  /**
   * The state of a bitmap across the backing chain: present when the top layer has it; a gap when
   * a layer lacks it while a layer below has it; in use when any layer carrying it is; recording
   * when the top layer's copy is enabled.
   */
  @Override
  public BitmapState bitmap(String name) {
    boolean present = bitmapNamed(name).isPresent();
    boolean missingAbove = false;
    boolean gap = false;
    boolean inUse = false;
    for (Qcow2Image layer : layers()) {
      Optional<Qcow2Bitmap> b = layer.bitmapNamed(name);
      if (b.isPresent()) {
        gap |= missingAbove;
        inUse |= b.get().inUse();
      } else {
        missingAbove = true;
      }
    }
    if (!present && !gap) {
      return BitmapState.MISSING;
    }
    return new BitmapState(present, gap, inUse, bitmapNamed(name).map(Qcow2Bitmap::auto).orElse(false));
  }

  /**
   * The union of the named bitmaps, each merged down the backing chain: the copies in the top
   * layer and in every layer below it that carries the bitmap without a gap.
   *
   * @throws Qcow2Exception when the top layer lacks one of the bitmaps
   * @throws BitmapInUseException when a layer's copy of one is flagged in use (checked for all
   *     of them before any bitmap data is read)
   */
  @Override
  public List<Extent> dirtyExtents(List<String> bitmapNames) throws IOException {
    return Bitmaps.union(this, bitmapNames);
  }

  /**
   * The dirty guest ranges of one bitmap of this layer, coalesced, scanned a 64-bit word at a time.
   *
   * @throws BitmapInUseException when the bitmap is flagged in use: its content in the file is stale
   */
  public List<Extent> dirtyExtents(Qcow2Bitmap b) throws IOException {
    return bitmaps.dirtyExtents(b);
  }

  /**
   * The allocation map as a backup reads it: what QEMU reads as zeros (its map's {@code zero}
   * flag: unallocated and zero clusters, and the parts of data clusters in holes of the file where
   * QEMU asks the file system, see {@link #mapEntries}) is a zero extent; the rest is data.
   */
  @Override
  public List<Extent> allocation() throws IOException {
    List<Extent> out = new ArrayList<>();
    for (MapEntry e : mapEntries()) {
      Extent x = new Extent(e.start(), e.length(), e.zero());
      if (!out.isEmpty() && out.get(out.size() - 1).end() == x.offset() && out.get(out.size() - 1).zero() == x.zero()) {
        Extent last = out.remove(out.size() - 1);
        x = new Extent(last.offset(), last.length() + x.length(), x.zero());
      }
      out.add(x);
    }
    return out;
  }

  /**
   * One run of the allocation map as {@code qemu-img map --output=json} reports it.
   *
   * @param start first guest byte
   * @param length bytes
   * @param depth the layer of the backing chain that defines the range (0: this image)
   * @param present whether the image (not a backing file) defines the range
   * @param zero whether the range reads as zeros
   * @param data whether the range holds data in the file
   * @param offset where a standard data run starts in the file (absent for zeros and compressed data)
   */
  public record MapEntry(
      long start, long length, int depth, boolean present, boolean zero, boolean data, java.util.OptionalLong offset) {}

  /**
   * The allocation map in qemu-img's terms: runs of clusters of one kind, and for standard data
   * clusters contiguous in the file. Memory grows with the number of runs, not the size; work with
   * the allocated clusters and the runs of unallocated L2 entries, each layer of a backing chain
   * being asked only about the ranges the layers above it leave unallocated.
   */
  public List<MapEntry> mapEntries() throws IOException {
    List<MapEntry> out = new ArrayList<>();
    allocationMap.map(0, header.size, 0, out);
    return out;
  }

  /** This layer's part of the allocation map (for the layer above it). */
  AllocationMap allocationMap() {
    return allocationMap;
  }

  /** Guest bytes the map of this layer was asked about so far (for tests: work follows the extents). */
  long mapBytesAsked() {
    return allocationMap.mapBytesAsked();
  }

  /** Steps the map of this layer took so far: allocated units and runs of unallocated entries. */
  long mapSteps() {
    return allocationMap.mapSteps();
  }

  /** System calls asked of the file system about this layer's holes so far (for tests). */
  long holeQueries() {
    return file.holes().calls() + (dataHoles == null ? 0 : dataHoles.calls());
  }

  /** L2 tables read from the file so far (cache misses). */
  long l2Loads() {
    return clusters.l2Loads();
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    reader.readFully(offset, dst);
  }

  /** The backing file, if any (a {@link Qcow2Image} or a raw image). */
  public Optional<DiskSource> backing() {
    return Optional.ofNullable(backing);
  }

  @Override
  public void close() throws IOException {
    try {
      file.close();
      if (data != null) {
        data.close();
        dataHoles.close();
      }
    } finally {
      if (backing != null) {
        backing.close();
      }
    }
  }
}
