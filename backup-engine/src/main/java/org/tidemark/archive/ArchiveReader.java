package org.tidemark.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.DataFormatException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * Reads a backup archive written by {@link ArchiveWriter} (format grammar there).
 *
 * <p>{@link #open} reads the metadata entries (from both ends of the file, {@link ArchiveLayout}),
 * checks the seal (the SHA-256 of {@code checkpoint.xml}, {@code manifest.json} and {@code
 * index.json}) and that the chunks the index lists tile the archive as the writer lays them out;
 * chunk data are read later, on demand, each checked against its CRC-32C. {@link
 * #checkTarHeaders} reads every chunk's tar header as well (for {@link ArchiveVerifier}).
 * Metadata entries are limited to {@value #MAX_METADATA} bytes and chunks to {@link
 * ArchiveWriter#MAX_CHUNK} guest bytes, whatever the file claims.
 *
 * <p>Thread-safe after {@code open}: {@link #readChunk} uses positional reads and may be called
 * from several threads at once.
 */
public final class ArchiveReader implements Closeable {
  /** The largest metadata entry read, in bytes. */
  public static final int MAX_METADATA = 64 << 20;
  /** Compressed chunk bytes, per reading thread (their size is checked against the chunk limit first). */
  private static final ThreadLocal<ByteBuffer> STORED = ThreadLocal.withInitial(() -> ByteBuffer.allocate(0));
  /** The same, for reads into direct buffers. */
  private static final ThreadLocal<ByteBuffer> STORED_DIRECT = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(0));
  /** The largest disk a manifest may describe, in bytes (2^56, as for qcow2 images). */
  public static final long MAX_VIRTUAL_SIZE = 1L << 56;

  private final Path path;
  private final FileChannel channel;
  private final byte[] checkpointXml;
  private final Manifest manifest;
  private final List<ChunkRecord> chunks;
  private final Map<String, List<ChunkRecord>> chunksByDisk = new HashMap<>();

  private ArchiveReader(Path path, FileChannel channel, byte[] checkpointXml, Manifest manifest, List<ChunkRecord> chunks) {
    this.path = path;
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
   * manifest and the index exactly as the writer lays them out.
   *
   * @throws ArchiveCorruptException when the structure or seal is wrong
   * @throws ArchiveVersionException when the archive is of a newer format version
   */
  public static ArchiveReader open(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      ArchiveLayout layout;
      try {
        layout = ArchiveLayout.read(path, channel);
      } catch (ArchiveException e) {
        throw e;
      } catch (IOException | RuntimeException e) {
        throw new ArchiveCorruptException(path, "not a readable tar archive: " + e.getMessage(), e);
      }
      Map<String, byte[]> metadata = new HashMap<>();
      metadata.put(ArchiveWriter.CHECKPOINT_ENTRY, layout.checkpoint.data());
      metadata.put(ArchiveWriter.MANIFEST_ENTRY, layout.manifest.data());
      metadata.put(ArchiveWriter.INDEX_ENTRY, layout.index.data());
      ArchiveJson.Seal seal = readSeal(path, layout.seal.data());
      checkSeal(path, seal, metadata);
      Manifest manifest = parse(path, ArchiveWriter.MANIFEST_ENTRY, layout.manifest.data(), ArchiveJson::readManifest);
      if (manifest.formatVersion() > Manifest.VERSION) {
        throw new ArchiveVersionException(path, manifest.formatVersion(), Manifest.VERSION);
      }
      checkDisks(path, manifest);
      ArchiveJson.Index index = parse(path, ArchiveWriter.INDEX_ENTRY, layout.index.data(), ArchiveJson::readIndex);
      if (index.chunks().size() != seal.chunks()) {
        throw new ArchiveCorruptException(path, "the index lists " + index.chunks().size() + " chunks, the seal "
            + seal.chunks());
      }
      long next = layout.manifest.end(); // where the next entry's header starts
      for (ChunkRecord c : index.chunks()) {
        checkChunkRecord(path, c, manifest);
        // a large chunk's data is 4 KiB-aligned; archives written before 2026-12-03 have plain headers
        String name = chunkName(c);
        long aligned = next + TarHeaders.chunkLength(name, c.storedLength(), manifest.created(), next);
        long plain = next + TarHeaders.length(name, c.storedLength(), manifest.created());
        if (c.dataOffset() != aligned && c.dataOffset() != plain) {
          throw new ArchiveCorruptException(path, "chunk of disk '" + c.disk() + "' at guest offset " + c.offset()
              + ": the index puts its data at " + c.dataOffset() + ", the archive's layout at " + aligned
              + (aligned == plain ? "" : " (or " + plain + " without alignment)"));
        }
        next = c.dataOffset() + TarHeaders.padded(c.storedLength());
      }
      if (next != layout.index.header()) {
        throw new ArchiveCorruptException(path, "the chunks the index lists end at " + next
            + ", the index's header is at " + layout.index.header());
      }
      return new ArchiveReader(path, channel, layout.checkpoint.data(), manifest, index.chunks());
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
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
    try (TarFile tar = new TarFile(path)) {
      entries = tar.getEntries();
    } catch (IOException | RuntimeException e) {
      throw new ArchiveCorruptException(path, "not a readable tar archive: " + e.getMessage(), e);
    }
    int expected = chunks.size() + 4;
    long start = 0; // where the entry's first header record is: the end of the entry before it
    for (int i = 0; i < Math.min(entries.size(), expected); i++) {
      TarArchiveEntry e = entries.get(i);
      String name = i == 0 ? ArchiveWriter.CHECKPOINT_ENTRY : i == 1 ? ArchiveWriter.MANIFEST_ENTRY
          : i == expected - 2 ? ArchiveWriter.INDEX_ENTRY : i == expected - 1 ? ArchiveWriter.SEAL_ENTRY
          : chunkName(chunks.get(i - 2));
      checkHeaders(e, start);
      if (i >= 2 && i < expected - 2) {
        ChunkRecord c = chunks.get(i - 2);
        if (!e.getName().equals(name) || e.getDataOffset() != c.dataOffset() || e.getSize() != c.storedLength()) {
          throw new ArchiveCorruptException(path, "chunk of disk '" + c.disk() + "' at guest offset " + c.offset()
              + ": the index says entry '" + name + "' at " + c.dataOffset() + " (" + c.storedLength()
              + " bytes); the tar has '" + e.getName() + "' at " + e.getDataOffset() + " (" + e.getSize() + " bytes)");
        }
      } else if (!e.getName().equals(name)) {
        throw new ArchiveCorruptException(path, "entry " + i + " is '" + e.getName() + "', expected '" + name + "'");
      }
      start = e.getDataOffset() + TarHeaders.padded(e.getSize());
    }
    if (entries.size() != expected) {
      throw new ArchiveCorruptException(path, "the tar has " + entries.size() + " entries, the index lists "
          + chunks.size() + " chunks (expected " + expected + " entries)");
    }
  }

  /** Checks the header records of an entry, from {@code start} to its data, against what the writer writes. */
  private void checkHeaders(TarArchiveEntry e, long start) throws IOException {
    long length = e.getDataOffset() - start;
    String where = "tar header of '" + e.getName() + "' at " + start;
    if (length < TarHeaders.RECORD || length > TarHeaders.MAX_HEADERS) {
      throw new ArchiveCorruptException(path, where + ": " + length + " bytes of headers before its data at "
          + e.getDataOffset() + " (expected 512 to " + TarHeaders.MAX_HEADERS + ")");
    }
    ByteBuffer headers = ByteBuffer.allocate((int) length);
    while (headers.hasRemaining()) {
      if (channel.read(headers, start + headers.position()) < 0) {
        throw new ArchiveCorruptException(path, where + " is cut short");
      }
    }
    String problem = TarHeaders.headersProblem(headers.array());
    if (problem != null) {
      throw new ArchiveCorruptException(path, where + ": " + problem);
    }
  }

  private static String chunkName(ChunkRecord c) {
    return ArchiveWriter.chunkEntryName(c.disk(), c.offset(), Codec.fromId(c.codec()));
  }

  private static ArchiveJson.Seal readSeal(Path path, byte[] bytes) throws ArchiveException {
    try {
      return ArchiveJson.readSeal(bytes, (format, version) -> {
        if (!Manifest.FORMAT.equals(format)) {
          throw new ArchiveCorruptException(path, "seal.json does not name the format '" + Manifest.FORMAT + "'");
        }
        if (version > Manifest.VERSION) {
          throw new ArchiveVersionException(path, version, Manifest.VERSION);
        }
      });
    } catch (JsonShapeException e) {
      throw new ArchiveCorruptException(path, ArchiveWriter.SEAL_ENTRY + " is not valid: " + e.getMessage(), e);
    }
  }

  private static void checkSeal(Path path, ArchiveJson.Seal seal, Map<String, byte[]> metadata) throws ArchiveCorruptException {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sha.update(metadata.get(ArchiveWriter.CHECKPOINT_ENTRY));
    sha.update(metadata.get(ArchiveWriter.MANIFEST_ENTRY));
    sha.update(metadata.get(ArchiveWriter.INDEX_ENTRY));
    String actual = java.util.HexFormat.of().formatHex(sha.digest());
    if (!actual.equals(seal.sha256())) {
      throw new ArchiveCorruptException(path, "seal mismatch: checkpoint.xml, manifest.json and index.json hash to "
          + actual + ", the seal says " + seal.sha256());
    }
  }

  private interface JsonRead<T> {
    T read(byte[] json) throws JsonShapeException;
  }

  private static <T> T parse(Path path, String entry, byte[] bytes, JsonRead<T> reader) throws ArchiveCorruptException {
    try {
      return reader.read(bytes);
    } catch (JsonShapeException e) {
      throw new ArchiveCorruptException(path, entry + " is not valid: " + e.getMessage(), e);
    }
  }

  /** The chunk's codec is known, its lengths within the limits, and it lies inside a disk of the manifest. */
  private static void checkChunkRecord(Path path, ChunkRecord c, Manifest manifest) throws ArchiveCorruptException {
    String where = "chunk of disk '" + c.disk() + "' at guest offset " + c.offset();
    try {
      Codec.fromId(c.codec());
    } catch (IllegalArgumentException ex) {
      throw new ArchiveCorruptException(path, where + ": " + ex.getMessage());
    }
    if (c.rawLength() <= 0 || c.rawLength() > ArchiveWriter.MAX_CHUNK || c.storedLength() < 0
        || c.storedLength() > ArchiveWriter.MAX_CHUNK + (ArchiveWriter.MAX_CHUNK >> 7) + 1024) {
      throw new ArchiveCorruptException(path, where + ": lengths raw " + c.rawLength() + ", stored " + c.storedLength()
          + " (expected 0 < raw <= " + ArchiveWriter.MAX_CHUNK + ")");
    }
    DiskManifest disk = manifest.disk(c.disk()).orElseThrow(
        () -> new ArchiveCorruptException(path, where + ": the manifest has no such disk"));
    if (c.offset() < 0 || c.offset() > disk.virtualSize() - c.rawLength()) { // c.end() could overflow
      throw new ArchiveCorruptException(path, where + ": beyond the disk's virtual size " + disk.virtualSize());
    }
  }

  /**
   * Each disk's name can be a file name (a restore writes {@code NAME.raw} in its output folder, so
   * a name with a slash or a leading dot could write elsewhere), appears once, and its virtual size
   * is between 0 and {@value #MAX_VIRTUAL_SIZE}.
   */
  private static void checkDisks(Path path, Manifest manifest) throws ArchiveCorruptException {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (DiskManifest d : manifest.disks()) {
      String n = d.name();
      if (n.isEmpty() || n.startsWith(".") || n.length() > 255 || n.chars().anyMatch(c -> c == '/' || c == '\\' || c < 0x20)) {
        throw new ArchiveCorruptException(path, "manifest.json: disk name '" + n.replaceAll("\\p{Cntrl}", "?")
            + "' cannot name a file (expected 1 to 255 characters, no '/', '\\' or control characters, no leading '.')");
      }
      if (!names.add(n)) {
        throw new ArchiveCorruptException(path, "manifest.json: disk '" + n + "' appears twice");
      }
      if (d.virtualSize() < 0 || d.virtualSize() > MAX_VIRTUAL_SIZE) {
        throw new ArchiveCorruptException(path, "manifest.json: disk '" + n + "' has virtual size " + d.virtualSize()
            + " (expected 0 to " + MAX_VIRTUAL_SIZE + ")");
      }
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
    Codec codec = Codec.fromId(c.codec());
    if (codec == Codec.NONE && c.storedLength() != c.rawLength()) {
      throw new ArchiveCorruptException(path, where + ": does not decompress: stored " + c.storedLength()
          + " bytes, expected " + c.rawLength());
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
        throw new ArchiveCorruptException(path, where + ": the file ends " + stored.remaining() + " bytes early");
      }
      pos += n;
    }
    if (codec != Codec.NONE) {
      try {
        codec.decode(stored.position(start), dst, c.rawLength());
      } catch (DataFormatException | RuntimeException e) {
        throw new ArchiveCorruptException(path, where + ": does not decompress: " + e.getMessage(), e);
      }
    }
    ByteBuffer raw = dst.duplicate();
    raw.limit(raw.position() + c.rawLength());
    CRC32C crc = new CRC32C();
    crc.update(raw);
    if ((int) crc.getValue() != c.crc32c()) {
      throw new ArchiveCorruptException(path, where + ": checksum mismatch (CRC-32C "
          + Integer.toHexString((int) crc.getValue()) + ", expected " + Integer.toHexString(c.crc32c()) + ")");
    }
    dst.position(dst.position() + c.rawLength());
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

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
