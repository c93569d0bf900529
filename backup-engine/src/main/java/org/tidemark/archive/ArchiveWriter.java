package org.tidemark.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.tidemark.internal.DirectWrites;
import org.tidemark.store.ArchiveStore;
import org.tidemark.store.LocalStore;
import org.tidemark.store.StoreInput;
import org.tidemark.store.StoreOutput;

/**
 * Writes one backup archive, in a single pass over the data.
 *
 * <p>The archive is a POSIX tar that {@code tar tvf} lists:
 *
 * <pre>
 * Archive      --&gt; checkpoint.xml, manifest.json, Chunk*, index.bin, seal.json, end-of-archive
 * Chunk        --&gt; entry "disks/{disk}/{guest offset, 16 hex digits}.{raw|zst|zz}": the chunk's
 *                  guest bytes, compressed on their own with the codec the extension names; a
 *                  chunk storing 1 MiB or more has a PAX header with a "comment" record padding
 *                  its data to start at a multiple of 4 KiB
 * manifest.json --&gt; {@link Manifest}: disks, kinds, reasons, sizes, extents (known before copying)
 * index.bin    --&gt; {@link BinaryIndex}: a 16-byte header and 24 bytes per chunk: its disk, guest
 *                  offset, raw and stored lengths, codec and CRC-32C of the raw bytes
 * seal.json    --&gt; {"format", "formatVersion": 2 or 3 (the manifest's), "chunks": N, "indexBytes": 16 + 24 N,
 *                   "sha256": SHA-256 of checkpoint.xml || manifest.json || index.bin}
 * </pre>
 *
 * <p>This is format version {@value Manifest#VERSION}, or 2 for a manifest whose {@code created} is
 * a whole second ({@link Manifest#of}); {@link ArchiveReader} also reads version 1,
 * whose index is {@code index.json} and whose chunks may lack the alignment padding. Every entry
 * stays within the limits of {@link ArchiveLimits}, which the reader applies too: the manifest is
 * checked when the archive is created, the chunk count as chunks are added, and an archive that
 * would break a limit fails with {@link ArchiveLimitException} before anything is committed.
 *
 * <p>The chunks of each disk cover its data extents exactly, in guest order; zero extents have no
 * chunk. The archive is a pending output of an {@link ArchiveStore} ({@link StoreOutput}): nothing
 * is visible under the final name until {@link #commit()}, which is atomic, durable and never
 * replaces an existing archive; an archive started by {@link #replace} takes the place of the
 * archive of its name instead (consolidation), and {@link #openFinished} reads an archive back
 * before its commit. In a {@link LocalStore} the archive is written to a hidden
 * temporary file beside it ({@code .NAME.tmp-RANDOM}), forced to disk, published under its final
 * name without replacing and the directory forced. {@link #close()} without a commit discards the
 * output; a process killed mid-way leaves only a temporary file, which readers never take for an
 * archive ({@link Repository} removes it).
 *
 * <p>Not thread-safe: one thread calls {@link #writeChunk} in guest order, while chunks may be
 * encoded on other threads with {@link EncodedChunk#encode}.
 */
public final class ArchiveWriter implements Closeable {
  /** The largest chunk, in guest bytes ({@link ArchiveLimits#MAX_CHUNK}). */
  public static final int MAX_CHUNK = ArchiveLimits.MAX_CHUNK;
  /** The chunk size Tidemark uses by default. */
  public static final int DEFAULT_CHUNK = 4 << 20;

  /** Bytes gathered before a write: small entries leave together, in writes of this size. */
  static final int STAGE = 8 << 20;

  static final String CHECKPOINT_ENTRY = "checkpoint.xml";
  static final String MANIFEST_ENTRY = "manifest.json";
  /** The index of format version 2, binary. */
  static final String INDEX_ENTRY = "index.bin";
  /** The index of format version 1, JSON. */
  static final String V1_INDEX_ENTRY = "index.json";
  static final String SEAL_ENTRY = "seal.json";

  private final Path target;
  private final StoreOutput out;
  /** Bytes the archive holds so far, staged ones included: where the next entry's header starts. */
  private long position;
  /**
   * Bytes appended but not yet written to the output, from {@code position - stage.stage().position()};
   * full stages are written on a thread of their own while the next one fills ({@link StageWrites}).
   */
  private final StageWrites stage;
  private final MessageDigest metadataDigest;
  private final Map<String, DiskCursor> cursors = new HashMap<>();
  private final BinaryIndex.Builder index = new BinaryIndex.Builder();
  private final long created;
  /** The manifest's format version, the seal's too. */
  private final int formatVersion;
  /** Whether the index and seal are written ({@link #openFinished}). */
  private boolean finished;
  private boolean committed;
  private boolean closed;

  private ArchiveWriter(Path target, StoreOutput out, Manifest manifest) {
    this.target = target;
    this.created = manifest.created();
    this.formatVersion = manifest.formatVersion();
    this.out = out;
    this.stage = new StageWrites(out, STAGE);
    try {
      this.metadataDigest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * Starts an archive that will be named {@code target} once committed, and writes its first two
   * entries.
   *
   * @param target the final path; it must not exist
   * @param checkpointXml the checkpoint, formatted with its domain, as libvirt would write it
   * @param manifest what the archive will hold
   * @throws FileAlreadyExistsException when {@code target} exists
   * @throws ArchiveLimitException when the checkpoint or the manifest breaks a limit of {@link
   *     ArchiveLimits} (nothing is written)
   * @throws IllegalArgumentException when the manifest is not of format version 2 or {@value Manifest#VERSION}
   */
  public static ArchiveWriter create(Path target, byte[] checkpointXml, Manifest manifest) throws IOException {
    return create(target, checkpointXml, manifest, true);
  }

  /**
   * {@link #create(Path, byte[], Manifest)}, writing around the page cache where the file system
   * allows it only when {@code directWrites}.
   */
  public static ArchiveWriter create(Path target, byte[] checkpointXml, Manifest manifest, boolean directWrites)
      throws IOException {
    return create(target, Files.exists(target), () -> LocalStore.createFile(target, directWrites), checkpointXml,
        manifest);
  }

  /**
   * Starts an archive that will be committed as {@code name} in {@code store}, and writes its
   * first two entries.
   *
   * @throws FileAlreadyExistsException when the store holds an object of that name
   * @throws ArchiveLimitException when the checkpoint or the manifest breaks a limit of {@link
   *     ArchiveLimits} (nothing is written)
   * @throws IllegalArgumentException when the manifest is not of format version 2 or {@value Manifest#VERSION}
   *     or the name is not a store name
   */
  public static ArchiveWriter create(ArchiveStore store, String name, byte[] checkpointXml, Manifest manifest)
      throws IOException {
    return create(store.locate(name), store.exists(name), () -> store.createOutput(name), checkpointXml, manifest);
  }

  /**
   * Starts an archive that will take the place of the archive {@code name} of {@code store} when
   * committed ({@link ArchiveStore#replaceOutput}: the same name, atomically replaced), and writes
   * its first two entries. Until the commit the existing archive is untouched; {@link #close()}
   * without a commit keeps it.
   *
   * @throws java.nio.file.NoSuchFileException when the store holds no object of that name
   * @throws ArchiveLimitException when the checkpoint or the manifest breaks a limit of {@link
   *     ArchiveLimits} (nothing is written)
   */
  public static ArchiveWriter replace(ArchiveStore store, String name, byte[] checkpointXml, Manifest manifest)
      throws IOException {
    return create(store.locate(name), false, () -> store.replaceOutput(name), checkpointXml, manifest);
  }

  /** Opens the output once the arguments are checked. */
  private interface Opener {
    StoreOutput open() throws IOException;
  }

  private static ArchiveWriter create(Path target, boolean exists, Opener opener, byte[] checkpointXml,
      Manifest manifest) throws IOException {
    if (manifest.formatVersion() < Manifest.WHOLE_SECONDS || manifest.formatVersion() > Manifest.VERSION
        || !Manifest.FORMAT.equals(manifest.format())) {
      throw new IllegalArgumentException("manifest of format " + manifest.format() + " version "
          + manifest.formatVersion() + " (this writer writes " + Manifest.FORMAT + " version " + Manifest.WHOLE_SECONDS
          + " or " + Manifest.VERSION + ")");
    }
    if (exists) {
      throw new FileAlreadyExistsException(target.toString(), null, "a backup archive already exists there");
    }
    ArchiveLimits.ManifestProblem problem = ArchiveLimits.manifestProblem(manifest, true);
    if (problem != null) {
      ArchiveException.Where where = ArchiveException.Where.entry(MANIFEST_ENTRY);
      throw new ArchiveLimitException(target, problem.disk().map(where::withDisk).orElse(where),
          "the manifest cannot be written: " + problem.text());
    }
    byte[] manifestJson = ArchiveJson.manifest(manifest);
    checkMetadata(target, CHECKPOINT_ENTRY, checkpointXml.length);
    checkMetadata(target, MANIFEST_ENTRY, manifestJson.length);
    ArchiveWriter w = new ArchiveWriter(target, opener.open(), manifest);
    try {
      for (int i = 0; i < manifest.disks().size(); i++) {
        DiskManifest d = manifest.disks().get(i);
        w.cursors.put(d.name(), new DiskCursor(d, i));
      }
      w.metadataEntry(CHECKPOINT_ENTRY, checkpointXml);
      w.metadataEntry(MANIFEST_ENTRY, manifestJson);
      return w;
    } catch (IOException | RuntimeException e) {
      w.close();
      throw e;
    }
  }

  /** The path the archive gets when committed. */
  public Path target() {
    return target;
  }

  /** Bytes written so far (the archive's size once committed). */
  public long bytesWritten() {
    return position;
  }

  /**
   * Appends the next chunk of {@code disk}: it must start where the disk's previous chunk ended
   * (or at its first data extent) and stay within one data extent.
   *
   * @throws IllegalArgumentException when the chunk is not the next one the manifest calls for
   * @throws ArchiveLimitException when the archive already holds {@link ArchiveLimits#MAX_CHUNKS} chunks
   */
  public void writeChunk(String disk, EncodedChunk chunk) throws IOException {
    writeChunk(disk, chunk, null);
  }

  /**
   * Appends the next chunk of {@code disk} as {@link #writeChunk(String, EncodedChunk)} does, but
   * may return while its stored bytes are still being written, on the writer's own thread, so that
   * the caller prepares the next chunk meanwhile. Such writes queue up behind one another, in the
   * order of the calls; each holds its chunk's buffer until released, which is how the caller bounds
   * them. {@code released} runs once the writer no longer reads {@code chunk.stored()}: on the
   * writer's thread when the write ends, well or not, or on this thread before this returns (when
   * the bytes were copied, or this throws). The caller leaves those bytes as they are until then.
   * A failed write is thrown by a later call of this writer ({@link #writeChunk}, {@link #commit},
   * {@link #openFinished}); nothing is committed.
   *
   * @param released run once, or null to return only when the bytes are written
   */
  public void writeChunk(String disk, EncodedChunk chunk, Runnable released) throws IOException {
    boolean[] handedOn = {false};
    try {
      appendChunk(disk, chunk, released, handedOn);
    } finally {
      if (released != null && !handedOn[0]) {
        released.run();
      }
    }
  }

  /**
   * {@link #writeChunk}; {@code handedOn[0]} is set as soon as the stored bytes are being written
   * on the writer's thread (which then runs {@code released}).
   */
  private void appendChunk(String disk, EncodedChunk chunk, Runnable released, boolean[] handedOn)
      throws IOException {
    ensureOpen();
    if (finished) {
      throw new IllegalStateException("archive " + target + " is finished: no more chunks");
    }
    DiskCursor cursor = cursors.get(disk);
    if (cursor == null) {
      throw new IllegalArgumentException("disk '" + disk + "' is not in the manifest");
    }
    if (index.count() >= ArchiveLimits.MAX_CHUNKS) {
      throw new ArchiveLimitException(target, ArchiveException.Where.chunk(disk, chunk.offset()),
          "disk '" + disk + "': the chunk at guest offset " + chunk.offset()
          + " would be chunk " + (index.count() + 1) + " (an archive holds at most " + ArchiveLimits.MAX_CHUNKS + ")");
    }
    cursor.accept(chunk.offset(), chunk.rawLength());
    writeChunkEntry(chunkEntryName(disk, chunk.offset(), chunk.codec()), chunk.stored(), released, handedOn);
    index.add(cursor.number, chunk.offset(), chunk.rawLength(), chunk.storedLength(), chunk.codec(), chunk.crc32c());
  }

  /**
   * Finishes the archive (index, seal), forces it to disk and gives it its final name.
   *
   * @return the final path
   * @throws IllegalStateException when a disk's data extents are not all covered by chunks
   * @throws FileAlreadyExistsException when another archive took the final name meanwhile
   */
  public Path commit() throws IOException {
    ensureOpen();
    if (!finished) {
      finish();
    }
    stage.stop();
    out.commit();
    committed = true;
    closed = true;
    return target;
  }

  /**
   * Finishes the archive (index, seal) and opens it for positional reads while it is still
   * pending, not yet under its name ({@link StoreOutput#openPending}): a writer checks it (for
   * instance with {@link ArchiveVerifier#verify(StoreInput)}) before {@link #commit()}, or
   * discards it with {@link #close()}. Close the input before the commit.
   *
   * @throws IllegalStateException when a disk's data extents are not all covered by chunks, or the
   *     archive is finished already
   */
  public StoreInput openFinished() throws IOException {
    ensureOpen();
    if (finished) {
      throw new IllegalStateException("archive " + target + " is already finished");
    }
    finish();
    stage.stop();
    return out.openPending();
  }

  /** Writes the index, the seal and the end of the archive. */
  private void finish() throws IOException {
    finished = true;
    for (DiskCursor c : cursors.values()) {
      c.checkComplete();
    }
    long indexBytes = ArchiveLimits.indexBytes(index.count());
    checkMetadata(target, INDEX_ENTRY, indexBytes);
    ByteBuffer[] indexData = index.buffers();
    for (ByteBuffer b : indexData) {
      metadataDigest.update(b.duplicate());
    }
    writeEntry(INDEX_ENTRY, indexBytes, indexData);
    ArchiveJson.Seal seal = new ArchiveJson.Seal(Manifest.FORMAT, formatVersion, index.count(), indexBytes,
        java.util.HexFormat.of().formatHex(metadataDigest.digest()));
    byte[] sealJson = ArchiveJson.seal(seal);
    writeEntry(SEAL_ENTRY, sealJson.length, ByteBuffer.wrap(sealJson));
    append(ByteBuffer.allocate(2 * TarHeaders.RECORD)); // end of archive: two zero records
    writeStaged();
    stage.await();
  }

  /** Discards the archive unless it was committed. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    stage.stop();
    out.close();
  }

  /** A metadata entry of {@code length} bytes fits the reader's limit, or nothing is committed. */
  private static void checkMetadata(Path target, String name, long length) throws ArchiveLimitException {
    if (length > ArchiveLimits.MAX_METADATA) {
      throw new ArchiveLimitException(target, ArchiveException.Where.entry(name), name + " would take " + length
          + " bytes (a reader takes at most "
          + ArchiveLimits.MAX_METADATA + ")");
    }
  }

  private void metadataEntry(String name, byte[] bytes) throws IOException {
    metadataDigest.update(bytes);
    writeEntry(name, bytes.length, ByteBuffer.wrap(bytes));
  }

  /**
   * Appends one metadata entry of {@code length} bytes, the remaining bytes of {@code data}: its
   * header, formatted by Commons Compress ({@link TarHeaders}), its data, and zeros up to the next
   * 512-byte record.
   */
  private void writeEntry(String name, long length, ByteBuffer... data) throws IOException {
    append(ByteBuffer.wrap(TarHeaders.format(TarHeaders.entry(name, length, created))));
    append(data);
    append(padding((int) (length % TarHeaders.RECORD)));
  }

  /**
   * Appends one chunk entry. A large chunk's data starts at a multiple of 4 KiB ({@link
   * TarHeaders#formatChunk}): what is staged before it (its header last) and its whole 4 KiB blocks
   * leave in one gathering write, which a local store sends around the page cache when its buffer
   * is direct and aligned and the file system allows it ({@link StoreOutput#alignment}, {@link
   * DirectWrites}); the data's last partial block and the padding are staged. A small chunk is
   * staged whole. With {@code released}, the large chunk's write runs on the stage's thread
   * ({@link StageWrites#flipWith}), which runs {@code released} after it; {@code handedOn[0]} says
   * it does.
   */
  private void writeChunkEntry(String name, ByteBuffer data, Runnable released, boolean[] handedOn)
      throws IOException {
    ByteBuffer header = ByteBuffer.wrap(TarHeaders.formatChunk(name, data.remaining(), created, position));
    long dataOffset = position + header.remaining();
    int block = out.alignment();
    int body = data.remaining() / block * block;
    int length = data.remaining();
    if (block <= 1 || length < TarHeaders.ALIGNED_MIN || body == 0 || dataOffset % block != 0) {
      append(header, data.duplicate(), padding(length));
      return;
    }
    append(header); // the stage now ends at dataOffset, a block boundary, and starts at one
    ByteBuffer whole = data.duplicate().limit(data.position() + body);
    ByteBuffer tail = data.duplicate().position(data.position() + body);
    if (released == null) {
      stage.writeWith(whole);
      position += body;
      append(tail, padding(length));
      return;
    }
    stage.flipWith(whole, tail, released);
    handedOn[0] = true;
    position += length;
    append(padding(length));
  }

  private static final byte[] ZERO_RECORD = new byte[TarHeaders.RECORD];

  private static ByteBuffer padding(int length) {
    return ByteBuffer.wrap(ZERO_RECORD, 0, (int) Math.floorMod(-(long) length, (long) TarHeaders.RECORD));
  }

  /**
   * Appends the buffers' remaining bytes at {@link #position} (without moving the buffers) through
   * the stage: a direct buffer of {@value #STAGE} bytes that starts at a block boundary of the
   * file and is written whole (around the page cache where allowed, on the stage's own thread
   * while the other stage fills) each time it fills.
   */
  private void append(ByteBuffer... parts) throws IOException {
    for (ByteBuffer part : parts) {
      ByteBuffer rest = part.duplicate();
      while (rest.hasRemaining()) {
        ByteBuffer staged = stage.stage();
        int n = Math.min(rest.remaining(), staged.remaining());
        staged.put(rest.slice(rest.position(), n));
        rest.position(rest.position() + n);
        position += n;
        if (!staged.hasRemaining()) {
          writeStaged();
        }
      }
    }
  }

  /** Starts writing what is staged; the stage then starts at {@link #position}. */
  private void writeStaged() throws IOException {
    stage.flip();
  }

  private void ensureOpen() {
    if (closed || committed) {
      throw new IllegalStateException("archive " + target + " is already " + (committed ? "committed" : "closed"));
    }
  }

  /** Tracks where the next chunk of a disk must start, walking its data extents. */
  private static final class DiskCursor {
    private final String disk;
    /** The disk's position in the manifest: how the index names it. */
    final int number;
    private final Iterator<ExtentRecord> extents;
    private ExtentRecord current;
    private long next;

    DiskCursor(DiskManifest d, int number) {
      this.disk = d.name();
      this.number = number;
      this.extents = d.extents().stream().filter(e -> !e.zero()).iterator();
      advance();
    }

    private void advance() {
      current = extents.hasNext() ? extents.next() : null;
      next = current == null ? -1 : current.offset();
    }

    void accept(long offset, int length) {
      if (current == null) {
        throw new IllegalArgumentException("disk '" + disk + "': chunk at " + offset + " beyond its last data extent");
      }
      if (offset != next || offset + length > current.end()) {
        throw new IllegalArgumentException(String.format(
            "disk '%s': chunk [%d, +%d) is not the next one (expected one starting at %d within [%d, %d))",
            disk, offset, length, next, current.offset(), current.end()));
      }
      next = offset + length;
      if (next == current.end()) {
        advance();
      }
    }

    void checkComplete() {
      if (current != null) {
        throw new IllegalStateException("disk '" + disk + "': data from guest offset " + next + " was never written");
      }
    }
  }

  /** The tar entry name of a chunk: {@code disks/DISK/OFFSET.EXT}, the offset as 16 hex digits. */
  static String chunkEntryName(String disk, long offset, Codec codec) {
    String hex = Long.toHexString(offset);
    return "disks/" + disk + "/" + "0".repeat(16 - hex.length()) + hex + "." + codec.extension();
  }
}
