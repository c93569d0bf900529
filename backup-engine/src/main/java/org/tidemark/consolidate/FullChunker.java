package org.tidemark.consolidate;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.EncodedChunk;
import org.tidemark.archive.ExtentRecord;
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
 * <p>Not thread-safe: the copy's one thread calls {@link #write} and {@link #finish}.
 */
final class FullChunker implements PlanCopy.Sink {
  static final int IN_FLIGHT = 8;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

  private final ArchiveWriter writer;
  private final DiskManifest disk;
  private final Codec codec;
  private final int chunkSize;
  private final ExecutorService encoders;
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
  private long stored;

  FullChunker(ArchiveWriter writer, DiskManifest disk, Codec codec, int chunkSize, ExecutorService encoders) {
    this.writer = writer;
    this.disk = disk;
    this.codec = codec;
    this.chunkSize = chunkSize;
    this.encoders = encoders;
    this.dataExtents = disk.extents().stream().filter(e -> !e.zero()).iterator();
    nextExtent();
  }

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
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
    fillTo(disk.virtualSize());
    while (!inFlight.isEmpty()) {
      writeNext();
    }
    return new ConsolidateResult.DiskResult(disk.name(), disk.virtualSize(), disk.dataBytes(), chunks, stored);
  }

  /** The guest offset the next byte goes to. */
  private long position() {
    return chunkStart + (buffers == null ? 0 : buffers[0].position());
  }

  /** Where the chunk being filled ends: a chunk size on, or its extent's end. */
  private long chunkEnd() {
    return Math.min(chunkStart + chunkSize, extent.end());
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
