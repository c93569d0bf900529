package org.tidemark.consolidate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
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
 * extents get no chunk. Chunks are checksummed and compressed on the {@link Workers}, {@value
 * #IN_FLIGHT} at most in flight, and written to the archive in guest order from the calling
 * thread: memory is {@code (IN_FLIGHT + 1) x 2} buffers of {@code chunkSize} bytes, whatever the
 * disk's size.
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
 * <p>Not thread-safe: the copy's one thread calls {@link #write} and {@link #finish}.
 */
final class FullChunker implements PlanCopy.Sink {
  static final int IN_FLIGHT = 8;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

  private final ArchiveWriter writer;
  private final DiskManifest disk;
  private final Codec codec;
  private final int chunkSize;
  private final Workers.Pool encoders;
  private final List<RestorePiece> copies;
  private final List<ArchiveReader> readers;
  private final Progress progress;
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
   * Zero-fills the data extents up to the disk's end, writes the chunks still in flight, and
   * returns the disk's figures.
   */
  ConsolidateResult.DiskResult finish() throws IOException {
    placeCopiesBefore(disk.virtualSize());
    fillTo(disk.virtualSize());
    while (!inFlight.isEmpty()) {
      writeNext();
    }
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
      ByteBuffer[] b = free.isEmpty()
          ? new ByteBuffer[] {DirectWrites.allocate(chunkSize), DirectWrites.allocate(chunkSize)}
          : free.poll();
      ChunkRecord c = p.chunk();
      ArchiveReader from = readers.get(p.source());
      inFlight.add(new InFlight(b, encoders.submit(() -> {
        from.readChunk(c, b[0].clear());
        if (c.codec() == Codec.NONE) {
          return new EncodedChunk(c.offset(), c.rawLength(), c.codec(), c.crc32c(), b[0].flip().duplicate());
        }
        from.readStored(c, b[1].clear());
        return new EncodedChunk(c.offset(), c.rawLength(), c.codec(), c.crc32c(), b[1].flip().duplicate());
      })));
      chunksCopied++;
      progress.advance(c.rawLength());
      if (inFlight.size() >= IN_FLIGHT) {
        writeNext();
      }
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
      buffers = free.isEmpty()
          ? new ByteBuffer[] {DirectWrites.allocate(chunkSize), DirectWrites.allocate(chunkSize)}
          : free.poll();
      buffers[0].clear().limit(chunkSize);
    }
    return buffers;
  }

  /** Hands the filled chunk to an encoder, and writes the oldest one when too many are in flight. */
  private void emit() throws IOException {
    ByteBuffer[] b = buffers;
    buffers = null;
    long offset = chunkStart;
    inFlight.add(new InFlight(b, encoders.submit(() -> EncodedChunk.encode(offset, b[0].flip(), codec, b[1].clear()))));
    if (inFlight.size() >= IN_FLIGHT) {
      writeNext();
    }
  }

  private void writeNext() throws IOException {
    InFlight next = inFlight.poll();
    EncodedChunk c = Workers.await(next.chunk(), "consolidation", "encoding a chunk of disk " + disk.name() + " failed");
    writer.writeChunk(disk.name(), c);
    free.add(next.buffers());
    chunks++;
    stored += c.storedLength();
  }

  /** A chunk being encoded, and the raw and scratch buffers it holds until it is written. */
  private record InFlight(ByteBuffer[] buffers, Future<EncodedChunk> chunk) {}
}
