package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.internal.Workers;
import org.tidemark.store.StoreInput;

/**
 * A read-only {@link SeekableByteChannel} over a {@link StoreInput}, for Commons Compress's {@code
 * TarFile}: it keeps its own position and reads through the input's positional reads. Closing it
 * leaves the input open. Not thread-safe (the input is).
 *
 * <p>Reads shorter than {@value #WINDOW} bytes are served from a window read ahead of them: {@code
 * TarFile} reads a PAX header's length and keyword one byte at a time, and each header record on
 * its own, which would otherwise be one positional read each (some 5,000 for an archive of 400
 * chunks); with the window, the header records of an entry (at most 4 KiB before its data, as
 * {@link ArchiveWriter} lays them out) take one read.
 *
 * <p>Given where the reader's short reads will start, in order (each entry's header, from the
 * sealed index), the windows there are read ahead, {@value #AHEAD} at most at once, on the given
 * workers: the walk then waits for the device's latency once per {@value #AHEAD} entries instead
 * of once per entry. Headers just written around the page cache (a new archive's) are read from
 * the device: about 80 microseconds each on this project's virtual disks, 0.14 s of a 1,714-entry
 * archive's 0.23 s walk. A window read ahead serves only reads that start inside it.
 */
final class InputChannel implements SeekableByteChannel {
  /** Bytes read ahead for a short read. */
  static final int WINDOW = 8 << 10;
  /** Windows read ahead at most at once. */
  static final int AHEAD = 16;

  private final StoreInput input;
  private ByteBuffer window = ByteBuffer.allocate(WINDOW).limit(0);
  /** The file offset of the window's first byte. */
  private long windowStart;
  private long position;
  private boolean open = true;
  /** Where the coming windows start, ascending; none when nothing is read ahead. */
  private final long[] places;
  /** The next of {@link #places} to read ahead. */
  private int nextPlace;
  private final ExecutorService workers;
  private final ArrayDeque<Ahead> ahead = new ArrayDeque<>();

  /** A channel reading each window when it is needed. */
  InputChannel(StoreInput input) {
    this(input, new long[0], null);
  }

  /**
   * A channel that reads the windows at {@code places} (ascending file offsets) ahead on {@code
   * workers}, which the caller shuts down after this channel without interrupting them (an
   * interrupted read closes a file channel: the input's, for every later read).
   */
  InputChannel(StoreInput input, long[] places, ExecutorService workers) {
    this.input = input;
    this.places = places;
    this.workers = workers;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureOpen();
    if (!dst.hasRemaining()) {
      return 0;
    }
    if (!inWindow(position) && dst.remaining() < WINDOW) {
      moveWindow();
    }
    int n;
    if (inWindow(position)) {
      int from = (int) (position - windowStart);
      n = Math.min(dst.remaining(), window.limit() - from);
      dst.put(window.slice(from, n));
    } else {
      n = input.read(dst, position);
    }
    if (n > 0) {
      position += n;
    }
    return n;
  }

  /** Makes the window start at {@link #position}: the one read ahead there, or one read now. */
  private void moveWindow() throws IOException {
    readAhead();
    while (!ahead.isEmpty() && ahead.peek().start() < position) {
      ahead.poll(); // passed by: the reader went elsewhere (its result, or failure, is not needed)
    }
    if (!ahead.isEmpty() && ahead.peek().start() == position) {
      window = Workers.await(ahead.poll().bytes(), "reading tar headers", "reading ahead in " + input.path() + " failed");
      readAhead();
    } else {
      window = fill(ByteBuffer.allocate(WINDOW), position);
    }
    windowStart = position;
  }

  /** Starts reading the windows at the next places, {@value #AHEAD} at most at once. */
  private void readAhead() {
    while (nextPlace < places.length && places[nextPlace] < position) {
      nextPlace++;
    }
    while (ahead.size() < AHEAD && nextPlace < places.length) {
      long at = places[nextPlace++];
      ahead.add(new Ahead(at, workers.submit(() -> fill(ByteBuffer.allocate(WINDOW), at))));
    }
  }

  /** Reads {@code buffer} full from {@code at}, or up to the end of the input; returns it flipped. */
  private ByteBuffer fill(ByteBuffer buffer, long at) throws IOException {
    while (buffer.hasRemaining() && input.read(buffer, at + buffer.position()) > 0) {
      // up to the end of the input
    }
    return buffer.flip();
  }

  /** Whether the window holds the byte at {@code offset}. */
  private boolean inWindow(long offset) {
    return offset >= windowStart && offset < windowStart + window.limit();
  }

  /** A window being read ahead from {@code start}. */
  private record Ahead(long start, Future<ByteBuffer> bytes) {}

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long position() throws IOException {
    ensureOpen();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    ensureOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("position " + newPosition + " is negative");
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    return input.size();
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() {
    open = false;
  }

  private void ensureOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
