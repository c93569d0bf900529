package org.tidemark.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;
import java.util.zip.DataFormatException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.tidemark.archive.ArchiveException.Where;
import org.tidemark.internal.JsonText.JsonShapeException;
import org.tidemark.internal.Workers;
import org.tidemark.store.ArchiveStore;
import org.tidemark.store.LocalStore;
import org.tidemark.store.StoreInput;

/**
 * Reads a backup archive written by {@link ArchiveWriter} (format grammar there).
 *
 * <p>{@link #open} reads the metadata entries (from both ends of the file, {@link ArchiveLayout}),
 * checks the seal (the SHA-256 of {@code checkpoint.xml}, {@code manifest.json} and the index:
 * {@code index.bin}, or {@code index.json} in format version 1) and that the chunks the index lists tile the archive as the writer lays them out;
 * chunk data are read later, on demand, each checked against its CRC-32C. {@link
 * #checkTarHeaders} reads every chunk's tar header as well (for {@link ArchiveVerifier}).
 * Metadata entries are limited to {@value #MAX_METADATA} bytes, chunks to {@link
 * ArchiveWriter#MAX_CHUNK} guest bytes, and in version 2 the chunks, extents and disks to the
 * limits of {@link ArchiveLimits} that the writer keeps, whatever the file claims. Every error
 * names, as fields ({@link ArchiveException#where()}) as well as in its message, the entry and
 * the file offset concerned, and for a chunk its disk and guest offset.
 *
 * <p>Thread-safe after {@code open}: {@link #readChunk} uses positional reads and may be called
 * from several threads at once.
 */
public final class ArchiveReader implements Closeable {
  /** The largest metadata entry read, in bytes ({@link ArchiveLimits#MAX_METADATA}). */
  public static final int MAX_METADATA = ArchiveLimits.MAX_METADATA;
  /** Compressed chunk bytes, per reading thread (their size is checked against the chunk limit first). */
  private static final ThreadLocal<ByteBuffer> STORED = ThreadLocal.withInitial(() -> ByteBuffer.allocate(0));
  /** The same, for reads into direct buffers. */
  private static final ThreadLocal<ByteBuffer> STORED_DIRECT = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));
  /** The largest disk a manifest may describe, in bytes ({@link ArchiveLimits#MAX_VIRTUAL_SIZE}). */
  public static final long MAX_VIRTUAL_SIZE = ArchiveLimits.MAX_VIRTUAL_SIZE;

  private final Path path;
  private final StoreInput channel;
  private final byte[] checkpointXml;
  private final Manifest manifest;
  private final List<ChunkRecord> chunks;
  private final Map<String, List<ChunkRecord>> chunksByDisk = new HashMap<>();
  /** The index entry's name: {@code index.bin}, or {@code index.json} in format version 1. */
  private final String indexEntry;
  /** Where the headers of manifest.json, the index and seal.json start (checkpoint.xml's: at 0). */
  private final long manifestHeader;
  /** Where manifest.json's padded data ends: the first chunk's headers start there. */
  private final long manifestEnd;
  private final long indexHeader;
  private final long sealHeader;
  /** Where manifest.json's data starts. */
  private final long manifestData;

  private ArchiveReader(Path path, StoreInput channel, byte[] checkpointXml, Manifest manifest, List<ChunkRecord> chunks,
      String indexEntry, long[] headers) {
    this.path = path;
    this.indexEntry = indexEntry;
    this.manifestHeader = headers[0];
    this.manifestEnd = headers[1];
    this.indexHeader = headers[2];
    this.sealHeader = headers[3];
    this.manifestData = headers[4];
    this.channel = channel;
    this.checkpointXml = checkpointXml;
    this.manifest = manifest;
    this.chunks = List.copyOf(chunks);
    for (ChunkRecord c : chunks) {
      chunksByDisk.computeIfAbsent(c.disk(), k -> new ArrayList<>()).add(c);
    }
  }

  /**
   * Opens an archive and checks its structure and seal (not the chunk data): the metadata entries
   * (found from both ends of the file, see {@link ArchiveLayout}: a few reads, whatever the number
   * of chunks), the seal over them, and that the chunks the index lists tile the space between the
   * manifest and the index exactly as the writer lays them out. Reads format versions 1 ({@code
   * index.json}) and 2 ({@code index.bin}, decoded record by record as it is read).
   *
   * @throws ArchiveCorruptException when the structure or seal is wrong
   * @throws ArchiveVersionException when the archive is of a newer format version
   */
  public static ArchiveReader open(Path path) throws IOException {
    return open(LocalStore.openFile(path));
  }

  /**
   * Opens the archive {@code name} of {@code store}: as {@link #open(Path)}, through the store's
   * positional reads.
   *
   * @throws java.nio.file.NoSuchFileException when the store holds no such archive
   */
  public static ArchiveReader open(ArchiveStore store, String name) throws IOException {
    return open(store.openInput(name));
  }

  /** Reads the archive open as {@code channel}; closes it on failure. */
  static ArchiveReader open(StoreInput channel) throws IOException {
    Path path = channel.path();
    try {
      ArchiveLayout layout;
      try {
        layout = ArchiveLayout.read(path, channel);
      } catch (ArchiveException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        throw new ArchiveCorruptException(path, "not a readable tar archive: " + e.getMessage(), e);
      }
      ArchiveJson.Seal seal = readSeal(path, layout.seal);
      Where sealData = Where.entry(ArchiveWriter.SEAL_ENTRY, layout.seal.dataOffset());
      boolean v1 = seal.formatVersion() == 1;
      String indexName = v1 ? ArchiveWriter.V1_INDEX_ENTRY : ArchiveWriter.INDEX_ENTRY;
      if (seal.chunks() < 0 || !v1 && seal.chunks() > ArchiveLimits.MAX_CHUNKS) {
        throw new ArchiveCorruptException(path, sealData, "the seal lists " + seal.chunks() + " chunks (expected 0 to "
            + ArchiveLimits.MAX_CHUNKS + ")");
      }
      if (!v1 && seal.indexBytes() != ArchiveLimits.indexBytes(seal.chunks())) {
        throw new ArchiveCorruptException(path, sealData, "the seal gives index.bin " + seal.indexBytes() + " bytes for "
            + seal.chunks() + " chunks (expected " + ArchiveLimits.indexBytes(seal.chunks()) + ")");
      }
      ArchiveLayout.Entry index = v1 ? layout.jsonIndex() : layout.binaryIndex(seal.indexBytes());
      checkSeal(path, channel, seal, layout, index, indexName);
      Manifest manifest = parse(path, ArchiveWriter.MANIFEST_ENTRY, layout.manifest, ArchiveJson::readManifest);
      Where manifestData = Where.entry(ArchiveWriter.MANIFEST_ENTRY, layout.manifest.dataOffset());
      if (manifest.formatVersion() != seal.formatVersion()) {
        if (manifest.formatVersion() > Manifest.VERSION) {
          throw new ArchiveVersionException(path, manifestData, manifest.formatVersion(), Manifest.VERSION);
        }
        throw new ArchiveCorruptException(path, manifestData, "manifest.json is of format version " + manifest.formatVersion()
            + ", the seal of version " + seal.formatVersion());
      }
      ArchiveLimits.ManifestProblem problem = ArchiveLimits.manifestProblem(manifest, !v1);
      if (problem != null) {
        throw new ArchiveCorruptException(path, problem.disk().map(manifestData::withDisk).orElse(manifestData),
            "manifest.json: " + problem.text());
      }
      List<ChunkRecord> chunks = v1
          ? jsonChunks(path, layout, index, seal, manifest)
          : binaryChunks(path, channel, layout, index, seal, manifest);
      return new ArchiveReader(path, channel, layout.checkpoint.data(), manifest, chunks, indexName,
          new long[] {layout.manifest.header(), layout.manifest.end(), index.header(), layout.seal.header(),
              layout.manifest.dataOffset()});
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** The chunks of a version 1 archive, from {@code index.json}: each chunk's data aligned or not. */
  private static List<ChunkRecord> jsonChunks(Path path, ArchiveLayout layout, ArchiveLayout.Entry index,
      ArchiveJson.Seal seal, Manifest manifest) throws ArchiveCorruptException {
    ArchiveJson.Index json = parse(path, ArchiveWriter.V1_INDEX_ENTRY, index, ArchiveJson::readIndex);
    Where indexData = Where.entry(ArchiveWriter.V1_INDEX_ENTRY, index.dataOffset());
    if (json.chunks().size() != seal.chunks()) {
      throw new ArchiveCorruptException(path, indexData, "the index lists " + json.chunks().size() + " chunks, the seal "
          + seal.chunks());
    }
    long next = layout.manifest.end(); // where the next entry's header starts
    for (ChunkRecord c : json.chunks()) {
      checkChunkRecord(path, c, manifest, indexData);
      // a large chunk's data is 4 KiB-aligned; version 1 archives written before 2026-12-03 have plain headers
      String name = chunkName(c);
      long aligned = next + TarHeaders.chunkLength(name, c.storedLength(), manifest.created(), next);
      long plain = next + TarHeaders.length(name, c.storedLength(), manifest.created());
      if (c.dataOffset() != aligned && c.dataOffset() != plain) {
        throw new ArchiveCorruptException(path, chunkAt(c, next), "chunk of disk '" + c.disk() + "' at guest offset "
            + c.offset() + ": the index puts its data at " + c.dataOffset() + ", the archive's layout at " + aligned
            + (aligned == plain ? "" : " (or " + plain + " without alignment)"));
      }
      next = c.dataOffset() + TarHeaders.padded(c.storedLength());
    }
    checkTiling(path, next, index, ArchiveWriter.V1_INDEX_ENTRY);
    return json.chunks();
  }

  /**
   * The chunks of a version 2 archive, decoded from {@code index.bin} as it is read, each placed
   * where the writer lays it out (its header, aligned for a large chunk, right after the previous
   * entry's padding).
   */
  private static List<ChunkRecord> binaryChunks(Path path, StoreInput channel, ArchiveLayout layout,
      ArchiveLayout.Entry index, ArchiveJson.Seal seal, Manifest manifest) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(ArchiveLimits.INDEX_HEADER);
    readFully(path, channel, header, index.dataOffset());
    String problem = BinaryIndex.headerProblem(header.flip(), seal.chunks());
    if (problem != null) {
      throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.INDEX_ENTRY, index.dataOffset()),
          "index.bin at " + index.dataOffset() + ": " + problem);
    }
    List<ChunkRecord> chunks = new ArrayList<>(seal.chunks());
    long[] next = {layout.manifest.end()}; // where the next entry's header starts
    streamIndex(path, channel, index.dataOffset() + ArchiveLimits.INDEX_HEADER,
        index.size() - ArchiveLimits.INDEX_HEADER, INDEX_BLOCK, block -> {
          while (block.hasRemaining()) {
            long at = index.dataOffset() + ArchiveLimits.INDEX_HEADER + (long) chunks.size() * ArchiveLimits.INDEX_RECORD;
            Where record = Where.entry(ArchiveWriter.INDEX_ENTRY, at);
            ChunkRecord c;
            try {
              c = BinaryIndex.decode(block, manifest, 0);
            } catch (BinaryIndex.BadRecord e) {
              throw new ArchiveCorruptException(path, record, "index.bin: record " + chunks.size() + ": "
                  + e.getMessage());
            }
            checkChunkRecord(path, c, manifest, record);
            long dataOffset = next[0] + TarHeaders.chunkLength(chunkName(c), c.storedLength(), manifest.created(), next[0]);
            c = new ChunkRecord(c.disk(), c.offset(), c.rawLength(), c.storedLength(), c.codec(), c.crc32c(), dataOffset);
            next[0] = dataOffset + TarHeaders.padded(c.storedLength());
            if (next[0] > index.header()) {
              throw new ArchiveCorruptException(path, record.withGuestOffset(c.disk(), c.offset()), "index.bin: record "
                  + chunks.size() + " (at " + at + "): the chunks run past the index's header at " + index.header());
            }
            chunks.add(c);
          }
        });
    checkTiling(path, next[0], index, ArchiveWriter.INDEX_ENTRY);
    return chunks;
  }

  private static void checkTiling(Path path, long next, ArchiveLayout.Entry index, String indexName)
      throws ArchiveCorruptException {
    if (next != index.header()) {
      throw new ArchiveCorruptException(path, Where.entry(indexName, index.header()), "the chunks the index lists end at " + next
          + ", the index's header is at " + index.header());
    }
  }

  /** Bytes of {@code index.bin} read at a time: whole records. */
  private static final int INDEX_BLOCK = ArchiveLimits.INDEX_RECORD * (1 << 15);

  private interface Block {
    void accept(ByteBuffer block) throws IOException;
  }

  /** Reads {@code length} bytes from {@code from} in blocks of at most {@code blockSize}, each passed on. */
  private static void streamIndex(Path path, StoreInput channel, long from, long length, int blockSize, Block sink)
      throws IOException {
    ByteBuffer b = ByteBuffer.allocate((int) Math.min(blockSize, length));
    for (long done = 0; done < length; ) {
      b.clear().limit((int) Math.min(b.capacity(), length - done));
      readFully(path, channel, b, from + done);
      done += b.flip().remaining();
      sink.accept(b);
    }
  }

  private static void readFully(Path path, StoreInput channel, ByteBuffer b, long at) throws IOException {
    long start = at;
    while (b.hasRemaining()) {
      int n = channel.read(b, at);
      if (n < 0) {
        throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.INDEX_ENTRY, at), "the file ends at " + at
            + ", inside the index that starts before " + start);
      }
      at += n;
    }
  }

  /**
   * Reads every tar header of the archive as tar does, one after the other, and checks them
   * against the index and against what the writer writes: the entries in order, each chunk's name,
   * data offset and size, and every entry's header records ({@link TarHeaders#headersProblem}: a
   * regular file of mode 0644, no link name, owner 0/0, no device numbers, a sound checksum, PAX
   * records only for a long name and the alignment padding). {@link #open} relies on the sealed
   * index instead; {@link ArchiveVerifier} calls this so that the archive is also sound for tar
   * itself, and so that {@code tar x} of it creates nothing but regular files (not a link, a device
   * node or a setuid file that a tampered header with a fixed checksum would give).
   *
   * @throws ArchiveCorruptException at the first entry that does not match
   */
  public void checkTarHeaders() throws IOException {
    List<TarArchiveEntry> entries;
    long[] places = headerPlaces();
    ExecutorService readers = Workers.pool("tidemark-headers", Workers.count(HEADER_READERS, places.length));
    try {
      // every entry's header records where the index puts them, on a thread of their own while
      // tar walks the archive on this one: two passes of their own, each about half the time
      Future<?> inPlace = readers.submit(() -> {
        checkHeadersInPlace(places);
        return null;
      });
      try (TarFile tar = new TarFile(new InputChannel(channel, places, readers))) {
        entries = tar.getEntries();
      } catch (IOException | RuntimeException e) {
        Workers.await(inPlace, "checking tar headers", "checking the tar headers of " + path + " failed");
        throw new ArchiveCorruptException(path, "not a readable tar archive: " + e.getMessage(), e);
      }
      Workers.await(inPlace, "checking tar headers", "checking the tar headers of " + path + " failed");
    } finally {
      readers.shutdown(); // the reads under way end by themselves: interrupted, they would close the channel
    }
    int expected = chunks.size() + 4;
    long start = 0; // where the entry's first header record is: the end of the entry before it
    for (int i = 0; i < Math.min(entries.size(), expected); i++) {
      TarArchiveEntry e = entries.get(i);
      String name = i == 0 ? ArchiveWriter.CHECKPOINT_ENTRY : i == 1 ? ArchiveWriter.MANIFEST_ENTRY
          : i == expected - 2 ? indexEntry : i == expected - 1 ? ArchiveWriter.SEAL_ENTRY
          : chunkName(chunks.get(i - 2));
      if (i >= 2 && i < expected - 2) {
        ChunkRecord c = chunks.get(i - 2);
        if (!e.getName().equals(name) || e.getDataOffset() != c.dataOffset() || e.getSize() != c.storedLength()) {
          throw new ArchiveCorruptException(path, chunkAt(c, start), "chunk of disk '" + c.disk() + "' at guest offset "
              + c.offset() + ": the index says entry '" + name + "' at " + c.dataOffset() + " (" + c.storedLength()
              + " bytes); the tar has '" + e.getName() + "' at " + e.getDataOffset() + " (" + e.getSize() + " bytes)");
        }
      } else if (!e.getName().equals(name)) {
        throw new ArchiveCorruptException(path, Where.entry(name, start), "entry " + i + " at " + start + " is '"
            + e.getName() + "', expected '" + name + "'");
      }
      start = e.getDataOffset() + TarHeaders.padded(e.getSize());
    }
    if (entries.size() != expected) {
      throw new ArchiveCorruptException(path, Where.file(start), "the tar has " + entries.size() + " entries, the index"
          + " lists " + chunks.size() + " chunks (expected " + expected + " entries; they differ from " + start + " on)");
    }
  }

  /** Threads reading tar headers ahead for {@link #checkTarHeaders}: they wait for the device, not the CPU. */
  private static final int HEADER_READERS = 8;

  /**
   * Where each entry's header records start, in file order, as the writer lays them out: the
   * checkpoint, the manifest, every chunk (right after the previous entry's padded data), the
   * index and the seal.
   */
  private long[] headerPlaces() {
    long[] places = new long[chunks.size() + 4];
    places[1] = manifestHeader;
    long start = manifestEnd;
    for (int i = 0; i < chunks.size(); i++) {
      places[i + 2] = start;
      ChunkRecord c = chunks.get(i);
      start = c.dataOffset() + TarHeaders.padded(c.storedLength());
    }
    places[chunks.size() + 2] = indexHeader;
    places[chunks.size() + 3] = sealHeader;
    return places;
  }

  /**
   * Checks the header records of every entry where the sealed index and the layout put them, in
   * order, so that an error names the first broken one (also where tar cannot read the archive).
   * Returns when they are all sound.
   *
   * @param places where each entry's header records start ({@link #headerPlaces})
   */
  private void checkHeadersInPlace(long[] places) throws IOException {
    checkHeaders(ArchiveWriter.CHECKPOINT_ENTRY, Where.entry(ArchiveWriter.CHECKPOINT_ENTRY, 0), 0, TarHeaders.RECORD);
    checkHeaders(ArchiveWriter.MANIFEST_ENTRY, Where.entry(ArchiveWriter.MANIFEST_ENTRY, manifestHeader), manifestHeader,
        manifestHeader + TarHeaders.RECORD);
    for (int i = 0; i < chunks.size(); i++) {
      ChunkRecord c = chunks.get(i);
      long start = places[i + 2];
      checkHeaders(chunkName(c), chunkAt(c, start), start, c.dataOffset());
    }
    checkHeaders(indexEntry, Where.entry(indexEntry, indexHeader), indexHeader, indexHeader + TarHeaders.RECORD);
    checkHeaders(ArchiveWriter.SEAL_ENTRY, Where.entry(ArchiveWriter.SEAL_ENTRY, sealHeader), sealHeader,
        sealHeader + TarHeaders.RECORD);
  }

  /**
   * Checks the header records of an entry, from {@code start} to its data at {@code dataOffset},
   * against what the writer writes; {@code name} is the name tar reads, {@code at} the entry by the
   * index.
   */
  private void checkHeaders(String name, Where at, long start, long dataOffset) throws IOException {
    long length = dataOffset - start;
    String where = "tar header of '" + name + "' at " + start;
    if (length < TarHeaders.RECORD || length > TarHeaders.MAX_HEADERS) {
      throw new ArchiveCorruptException(path, at, where + ": " + length + " bytes of headers before its data at "
          + dataOffset + " (expected 512 to " + TarHeaders.MAX_HEADERS + ")");
    }
    ByteBuffer headers = ByteBuffer.allocate((int) length);
    while (headers.hasRemaining()) {
      if (channel.read(headers, start + headers.position()) < 0) {
        throw new ArchiveCorruptException(path, at, where + " is cut short");
      }
    }
    String problem = TarHeaders.headersProblem(headers.array());
    if (problem != null) {
      throw new ArchiveCorruptException(path, at, where + ": " + problem);
    }
  }

  private static String chunkName(ChunkRecord c) {
    return ArchiveWriter.chunkEntryName(c.disk(), c.offset(), c.codec());
  }

  /** The chunk {@code c}: its entry, disk and guest offset, at byte {@code fileOffset} of the archive. */
  private static Where chunkAt(ChunkRecord c, long fileOffset) {
    return Where.entry(chunkName(c), fileOffset).withGuestOffset(c.disk(), c.offset());
  }

  private static ArchiveJson.Seal readSeal(Path path, ArchiveLayout.Entry seal) throws ArchiveException {
    Where data = Where.entry(ArchiveWriter.SEAL_ENTRY, seal.dataOffset());
    try {
      return ArchiveJson.readSeal(seal.data(), (format, version) -> {
        if (!Manifest.FORMAT.equals(format)) {
          throw new ArchiveCorruptException(path, data, "seal.json does not name the format '" + Manifest.FORMAT + "'");
        }
        if (version > Manifest.VERSION) {
          throw new ArchiveVersionException(path, data, version, Manifest.VERSION);
        }
        if (version < 1) {
          throw new ArchiveCorruptException(path, data, "seal.json: format version " + version + " (expected 1 to "
              + Manifest.VERSION + ")");
        }
      });
    } catch (JsonShapeException e) {
      throw new ArchiveCorruptException(path, data, ArchiveWriter.SEAL_ENTRY + " is not valid: " + e.getMessage(), e);
    }
  }

  /** The SHA-256 of checkpoint.xml, manifest.json and the index (streamed when binary) is the seal's. */
  private static void checkSeal(Path path, StoreInput channel, ArchiveJson.Seal seal, ArchiveLayout layout,
      ArchiveLayout.Entry index, String indexName) throws IOException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sha.update(layout.checkpoint.data());
    sha.update(layout.manifest.data());
    if (index.data() != null) {
      sha.update(index.data());
    } else {
      streamIndex(path, channel, index.dataOffset(), index.size(), INDEX_BLOCK, sha::update);
    }
    String actual = java.util.HexFormat.of().formatHex(sha.digest());
    if (!actual.equals(seal.sha256())) {
      throw new ArchiveCorruptException(path, Where.entry(ArchiveWriter.SEAL_ENTRY, layout.seal.dataOffset()),
          "seal mismatch: checkpoint.xml, manifest.json and " + indexName
          + " hash to " + actual + ", the seal says " + seal.sha256());
    }
  }

  private interface JsonRead<T> {
    T read(byte[] json) throws JsonShapeException;
  }

  private static <T> T parse(Path path, String entry, ArchiveLayout.Entry at, JsonRead<T> reader)
      throws ArchiveCorruptException {
    try {
      return reader.read(at.data());
    } catch (JsonShapeException e) {
      throw new ArchiveCorruptException(path, Where.entry(entry, at.dataOffset()), entry + " is not valid: "
          + e.getMessage(), e);
    }
  }

  /**
   * The chunk's lengths are within the limits, and it lies inside a disk of the manifest; {@code
   * record} is where the index describes it.
   */
  private static void checkChunkRecord(Path path, ChunkRecord c, Manifest manifest, Where record)
      throws ArchiveCorruptException {
    String where = "chunk of disk '" + c.disk() + "' at guest offset " + c.offset();
    Where at = record.withGuestOffset(c.disk(), c.offset());
    if (c.rawLength() <= 0 || c.rawLength() > ArchiveWriter.MAX_CHUNK || c.storedLength() < 0
        || c.storedLength() > ArchiveWriter.MAX_CHUNK + (ArchiveWriter.MAX_CHUNK >> 7) + 1024) {
      throw new ArchiveCorruptException(path, at, where + ": lengths raw " + c.rawLength() + ", stored " + c.storedLength()
          + " (expected 0 < raw <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    DiskManifest disk = manifest.disk(c.disk()).orElseThrow(
        () -> new ArchiveCorruptException(path, at, where + ": the manifest has no such disk"));
    if (c.offset() < 0 || c.offset() > disk.virtualSize() - c.rawLength()) { // c.end() could overflow
      throw new ArchiveCorruptException(path, at, where + ": beyond the disk's virtual size " + disk.virtualSize());
    }
  }

  /** The archive file. */
  public Path path() {
    return path;
  }

  /** The {@code checkpoint.xml} entry, as written. */
  public byte[] checkpointXml() {
    return checkpointXml.clone();
  }

  /** The manifest. */
  public Manifest manifest() {
    return manifest;
  }

  /** The byte offset of manifest.json's data in the archive file. */
  long manifestDataOffset() {
    return manifestData;
  }

  /** Every chunk, in archive order. */
  public List<ChunkRecord> chunks() {
    return chunks;
  }

  /** The chunks of one disk, in guest order. */
  public List<ChunkRecord> chunks(String disk) {
    return chunksByDisk.getOrDefault(disk, List.of());
  }

  /**
   * Reads, decompresses and checks one chunk into {@code dst[0..rawLength)}.
   *
   * @throws ArchiveCorruptException when the stored bytes do not decode or fail the checksum
   * @throws IllegalArgumentException when {@code dst} is shorter than the chunk
   */
  public void readChunk(ChunkRecord c, byte[] dst) throws IOException {
    readChunk(c, ByteBuffer.wrap(dst));
  }

  /**
   * Reads, decompresses and checks one chunk into {@code dst} from its position, which moves past
   * the chunk's {@code rawLength} bytes. With a direct buffer the bytes go from the file through
   * the decompressor into {@code dst} without passing through the Java heap; a chunk stored as it
   * is is read straight into {@code dst}.
   *
   * @throws ArchiveCorruptException when the stored bytes do not decode or fail the checksum
   * @throws IllegalArgumentException when {@code dst} has fewer than {@code rawLength} bytes left
   */
  public void readChunk(ChunkRecord c, ByteBuffer dst) throws IOException {
    if (dst.remaining() < c.rawLength()) {
      throw new IllegalArgumentException("dst has " + dst.remaining() + " bytes left (expected >= " + c.rawLength() + ")");
    }
    String where = "chunk of disk '" + c.disk() + "' at guest offset " + c.offset() + " (file offset " + c.dataOffset() + ")";
    Where at = chunkAt(c, c.dataOffset());
    Codec codec = c.codec();
    if (codec == Codec.NONE && c.storedLength() != c.rawLength()) {
      throw new ArchiveCorruptException(path, at, where + ": does not decompress: stored " + c.storedLength()
          + " bytes, expected " + c.rawLength(), null);
    }
    // A chunk stored as it is goes straight into dst; a compressed one through this thread's buffer.
    ByteBuffer stored = codec == Codec.NONE
        ? dst.duplicate()
        : storedBuffer(c.storedLength(), dst.isDirect());
    stored.limit(stored.position() + c.storedLength());
    int start = stored.position();
    long pos = c.dataOffset();
    while (stored.hasRemaining()) {
      int n = channel.read(stored, pos);
      if (n < 0) {
        throw new ArchiveCorruptException(path, chunkAt(c, pos), where + ": the file ends " + stored.remaining()
            + " bytes early, at " + pos);
      }
      pos += n;
    }
    if (codec != Codec.NONE) {
      try {
        codec.decode(stored.position(start), dst, c.rawLength());
      } catch (DataFormatException | RuntimeException e) {
        throw new ArchiveCorruptException(path, at, where + ": does not decompress: " + e.getMessage(), e);
      }
    }
    ByteBuffer raw = dst.duplicate();
    raw.limit(raw.position() + c.rawLength());
    CRC32C crc = new CRC32C();
    crc.update(raw);
    if ((int) crc.getValue() != c.crc32c()) {
      throw new ArchiveCorruptException(path, at, where + ": checksum mismatch (CRC-32C "
          + Integer.toHexString((int) crc.getValue()) + ", expected " + Integer.toHexString(c.crc32c()) + ")", null);
    }
    dst.position(dst.position() + c.rawLength());
  }

  /**
   * Reads the chunk's stored bytes as the archive holds them (compressed with its codec, not
   * decoded, not checked: the CRC-32C is of the raw bytes) into {@code dst} from its position,
   * which moves past them: for copying a chunk into another archive as it is.
   *
   * @throws ArchiveCorruptException when the file ends before the chunk does
   * @throws IllegalArgumentException when {@code dst} has fewer than {@code storedLength} bytes left
   */
  public void readStored(ChunkRecord c, ByteBuffer dst) throws IOException {
    if (dst.remaining() < c.storedLength()) {
      throw new IllegalArgumentException("dst has " + dst.remaining() + " bytes left (expected >= " + c.storedLength()
          + ")");
    }
    ByteBuffer stored = dst.duplicate();
    stored.limit(stored.position() + c.storedLength());
    long pos = c.dataOffset();
    while (stored.hasRemaining()) {
      int n = channel.read(stored, pos);
      if (n < 0) {
        throw new ArchiveCorruptException(path, chunkAt(c, pos), "chunk of disk '" + c.disk() + "' at guest offset "
            + c.offset() + " (file offset " + c.dataOffset() + "): the file ends " + stored.remaining() + " bytes early,"
            + " at " + pos);
      }
      pos += n;
    }
    dst.position(stored.position());
  }

  /**
   * This thread's buffer for compressed chunk bytes (direct or on the heap, as the destination),
   * grown to {@code length} when needed; cleared.
   */
  private static ByteBuffer storedBuffer(int length, boolean direct) {
    ThreadLocal<ByteBuffer> local = direct ? STORED_DIRECT : STORED;
    ByteBuffer b = local.get();
    if (b.capacity() < length) {
      b = direct ? ByteBuffer.allocateDirect(length) : ByteBuffer.allocate(length);
      local.set(b);
    }
    return b.clear();
  }

  /** The archive's size in bytes. */
  long size() throws IOException {
    return channel.size();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
