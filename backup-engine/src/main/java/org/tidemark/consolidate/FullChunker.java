package org.tidemark.consolidate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.ChunkRecord;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.EncodedChunk;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.RestorePiece;
import org.tidemark.backup.Progress;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.Workers;
import org.tidemark.restore.PlanCopy;

/**
 * Cuts the guest bytes of one disk, coming front to back from a {@link PlanCopy}, into the chunks
 * of a full archive, as a full backup cuts them: each data extent of the new manifest from its
 * start in chunks of {@code chunkSize} bytes, the last one shorter. The bytes of a data extent that
 * no piece supplies are zeros (a small zero range the manifest's extent bound filled as data); zero
 * extents get no chunk. Chunks are checksummed and compressed on the {@link Workers}, and handed
 * to the archive in guest order on a thread of their own, while the archive writes the data of
 * the one before on its writer's thread ({@link ArchiveWriter#writeChunk(String, EncodedChunk,
 * Runnable)}): the calling thread only cuts and hands on, and the device's writes (most of a
 * consolidation's time) follow one another without waiting for the Java work between them. At most {@value
 * #IN_FLIGHT} chunks are being encoded or written: memory is {@code IN_FLIGHT + 1} buffers of
 * {@code chunkSize} bytes, and as many scratch buffers for the chunks that are compressed,
 * whatever the disk's size.
 *
 * <p><b>Copied chunks.</b> A chunk of the chain that the new archive takes whole (its whole guest
 * range is newest, it is stored with the codec asked for or uncompressed, and it is no longer than
 * {@code chunkSize}: {@link #copied}) is not decoded and encoded again: its stored bytes are read
 * and written as they are, with the CRC-32C of its index record, and it becomes a chunk of the new
 * archive of its own (the chunk before it ends where it starts). The copy does not hand these to
 * the sink ({@link Consolidator} leaves them out of the plan it copies); this class places each one
 * in guest order among the bytes that come. Each is read, decoded and checked against its CRC-32C
 * first, as the copy checks the chunks it decodes ({@link ArchiveReader#readChunk}); its stored
 * bytes are then read again (from the page cache) unless it is stored uncompressed, when the
 * checked bytes are the stored ones.
 *
 * <p>Not thread-safe: the copy's one thread calls {@link #write}, then {@link #finish} or, when the
 * copy failed, {@link #close}; the archive's writer is used by this object's write thread only
 * until {@link #finish} or {@link #close} returns, and never by two threads at once.
 */
final class FullChunker implements PlanCopy.Sink, AutoCloseable {
  static final int IN_FLIGHT = 8;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);
  private static final ByteBuffer NO_SCRATCH = ByteBuffer.allocateDirect(0);

  private final ArchiveWriter writer;
  private final DiskManifest disk;
  private final Codec codec;
  private final int chunkSize;
  private final Workers.Pool encoders;
  private final List<RestorePiece> copies;
  private final List<ArchiveReader> readers;
  private final Progress progress;
  /** Writes the encoded chunks to the archive, one at a time, in the order they are handed on. */
  private final ExecutorService writes;
  /** Set when a chunk failed: the writes still queued skip theirs. */
  private volatile boolean failed;
  /** The next of {@link #copies} to place. */
  private int nextCopy;
  private final Iterator<ExtentRecord> dataExtents;
  private final ArrayDeque<InFlight> inFlight = new ArrayDeque<>();
  private final ArrayDeque<ByteBuffer[]> free = new ArrayDeque<>();
  /** The data extent being filled; null past the last. */
  private ExtentRecord extent;
  /** Guest offset of the chunk being filled. */
  private long chunkStart;
  /** Its raw and scratch buffers; the raw one's position is how far it is filled. */
  private ByteBuffer[] buffers;
  private int chunks;
  private int chunksCopied;
  private long stored;

  /**
   * @param copies the pieces that are whole chunks of the chain to copy as they are ({@link
   *     #copied}), in guest order
   * @param readers the chain's archives, as the pieces' sources number them
   */
  FullChunker(ArchiveWriter writer, DiskManifest disk, Codec codec, int chunkSize, Workers.Pool encoders,
      List<RestorePiece> copies, List<ArchiveReader> readers, Progress progress) {
    this.writer = writer;
    this.disk = disk;
    this.codec = codec;
    this.chunkSize = chunkSize;
    this.encoders = encoders;
    this.copies = copies;
    this.readers = readers;
    this.progress = progress;
    this.writes = Workers.pool("tidemark-chunk-writer", 1);
    this.dataExtents = disk.extents().stream().filter(e -> !e.zero()).iterator();
    nextExtent();
  }

  /**
   * Whether a piece of the plan is a chunk of the chain the new archive can take as it is: the
   * piece is the whole chunk, stored with {@code codec} or uncompressed, of at most {@code
   * chunkSize} bytes.
   */
  static boolean copied(RestorePiece p, Codec codec, int chunkSize) {
    if (p.zero()) {
      return false;
    }
    ChunkRecord c = p.chunk();
    return p.offset() == c.offset() && p.length() == c.rawLength() && c.rawLength() <= chunkSize
        && (c.codec() == codec || c.codec() == Codec.NONE);
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    placeCopiesBefore(offset);
    fillTo(offset);
    ByteBuffer rest = data.duplicate();
    while (rest.hasRemaining()) {
      long pos = position();
      if (extent == null || pos >= extent.end()) {
        throw new IllegalStateException("disk '" + disk.name() + "': guest bytes at " + pos
            + " lie outside the new archive's data extents");
      }
      int n = (int) Math.min(rest.remaining(), chunkEnd() - pos);
      buffers()[0].put(rest.slice(rest.position(), n));
      rest.position(rest.position() + n);
      afterPut();
    }
  }

  /**
   * Zero-fills the data extents up to the disk's end, waits for the chunks still in flight to be
   * written, and returns the disk's figures.
   */
  ConsolidateResult.DiskResult finish() throws IOException {
    placeCopiesBefore(disk.virtualSize());
    fillTo(disk.virtualSize());
    while (!inFlight.isEmpty()) {
      retireOldest();
    }
    writes.shutdown();
    return new ConsolidateResult.DiskResult(disk.name(), disk.virtualSize(), disk.dataBytes(), chunks, chunksCopied,
        stored);
  }

  /**
   * Places the copied chunks that start before {@code offset}: the bytes before each (zeros, if
   * none came) end the chunk being filled, then the copy is a chunk of its own.
   */
  private void placeCopiesBefore(long offset) throws IOException {
    while (nextCopy < copies.size() && copies.get(nextCopy).offset() < offset) {
      RestorePiece p = copies.get(nextCopy);
      fillTo(p.offset());
      if (extent == null || position() != p.offset() || buffers != null) {
        throw new IllegalStateException("disk '" + disk.name() + "': the copied chunk at " + p.offset()
            + " does not start a chunk (at " + position() + ")");
      }
      nextCopy++;
      ByteBuffer[] b = free.isEmpty() ? new ByteBuffer[] {DirectWrites.allocate(chunkSize), null} : free.poll();
      ChunkRecord c = p.chunk();
      ArchiveReader from = readers.get(p.source());
      hand(b, encoders.submit(() -> {
        from.readChunk(c, b[0].clear());
        if (c.codec() == Codec.NONE) {
          return new EncodedChunk(c.offset(), c.rawLength(), c.codec(), c.crc32c(), b[0].flip().duplicate());
        }
        from.readStored(c, scratch(b).clear());
        return new EncodedChunk(c.offset(), c.rawLength(), c.codec(), c.crc32c(), b[1].flip().duplicate());
      }));
      chunksCopied++;
      progress.advance(c.rawLength());
      if (p.end() == extent.end()) {
        nextExtent();
      } else {
        chunkStart = p.end();
      }
    }
  }

  /** The guest offset the next byte goes to. */
  private long position() {
    return chunkStart + (buffers == null ? 0 : buffers[0].position());
  }

  /** Where the chunk being filled ends: a chunk size on, its extent's end, or where the next copied chunk starts. */
  private long chunkEnd() {
    long end = Math.min(chunkStart + chunkSize, extent.end());
    return nextCopy < copies.size() ? Math.min(end, Math.max(chunkStart + 1, copies.get(nextCopy).offset())) : end;
  }

  /** Fills zeros into the data extents from the current position up to {@code offset}. */
  private void fillTo(long offset) throws IOException {
    while (extent != null && position() < offset) {
      long pos = position();
      int n = (int) Math.min(Math.min(offset, chunkEnd()) - pos, ZEROS.capacity());
      buffers()[0].put(ZEROS.duplicate().limit(n));
      afterPut();
    }
    if (extent != null && position() > offset) {
      throw new IllegalStateException("disk '" + disk.name() + "': guest bytes at " + offset + " come after "
          + position() + " (expected front to back)");
    }
  }

  /** Sends the chunk off when it is full, and moves to the next extent at the end of one. */
  private void afterPut() throws IOException {
    if (position() < chunkEnd()) {
      return;
    }
    boolean extentDone = chunkEnd() == extent.end();
    long next = position();
    emit();
    if (extentDone) {
      nextExtent();
    } else {
      chunkStart = next;
    }
  }

  private void nextExtent() {
    extent = dataExtents.hasNext() ? dataExtents.next() : null;
    chunkStart = extent == null ? disk.virtualSize() : extent.offset();
  }

  private ByteBuffer[] buffers() {
    if (buffers == null) {
      buffers = free.isEmpty() ? new ByteBuffer[] {DirectWrites.allocate(chunkSize), null} : free.poll();
      buffers[0].clear().limit(chunkSize);
    }
    return buffers;
  }

  /** Hands the filled chunk to an encoder. */
  private void emit() throws IOException {
    ByteBuffer[] b = buffers;
    buffers = null;
    long offset = chunkStart;
    hand(b, encoders.submit(() -> {
      ByteBuffer scratch = codec == Codec.NONE ? NO_SCRATCH : scratch(b).clear(); // NONE stores the raw bytes
      return EncodedChunk.encode(offset, b[0].flip(), codec, scratch);
    }));
  }

  /** The scratch buffer of {@code b}, allocated (on the encoder's thread) the first time a chunk needs one. */
  private ByteBuffer scratch(ByteBuffer[] b) {
    if (b[1] == null) {
      b[1] = DirectWrites.allocate(chunkSize);
    }
    return b[1];
  }

  /**
   * Queues the write of a chunk being encoded, after those handed on before it, and waits for the
   * oldest one when {@value #IN_FLIGHT} are in flight.
   */
  private void hand(ByteBuffer[] b, Future<EncodedChunk> encoding) throws IOException {
    CompletableFuture<Void> released = new CompletableFuture<>();
    inFlight.add(new InFlight(b, writes.submit(() -> {
      if (failed) {
        released.complete(null);
        return -1L; // an earlier chunk failed: the archive is being discarded
      }
      try {
        EncodedChunk c = Workers.await(encoding, "consolidation", "encoding a chunk of disk " + disk.name() + " failed");
        writer.writeChunk(disk.name(), c, () -> released.complete(null));
        return (long) c.storedLength();
      } catch (IOException | RuntimeException | Error e) {
        failed = true;
        released.complete(null);
        throw e;
      }
    }), released));
    if (inFlight.size() >= IN_FLIGHT) {
      retireOldest();
    }
  }

  /**
   * Waits for the oldest chunk in flight to be handed to the archive and its bytes written (a
   * failed write is thrown by the archive's next write), and takes its buffers back.
   */
  private void retireOldest() throws IOException {
    InFlight next = inFlight.poll();
    long length = Workers.await(next.written(), "consolidation", "writing a chunk of disk " + disk.name() + " failed");
    Workers.await(next.released(), "consolidation", "writing a chunk of disk " + disk.name() + " failed");
    free.add(next.buffers());
    chunks++;
    stored += length;
  }

  /**
   * Stops the writes not yet done (when the copy failed; after {@link #finish}, nothing is left)
   * and waits until the write thread no longer touches the archive.
   */
  @Override
  public void close() {
    failed = true;
    writes.shutdown();
    boolean interrupted = false;
    while (true) {
      try {
        if (writes.awaitTermination(1, TimeUnit.SECONDS)) {
          break;
        }
      } catch (InterruptedException e) {
        interrupted = true; // the thread still writing must end before the archive is closed
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A chunk being encoded and written: {@code written} when the archive has taken it, {@code
   * released} when its stored bytes are written and its raw and scratch buffers free again.
   */
  private record InFlight(ByteBuffer[] buffers, Future<Long> written, Future<Void> released) {}
}
