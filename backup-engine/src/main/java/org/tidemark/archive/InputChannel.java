package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;
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
 */
final class InputChannel implements SeekableByteChannel {
  /** Bytes read ahead for a short read. */
  static final int WINDOW = 8 << 10;

  private final StoreInput input;
  private final ByteBuffer window = ByteBuffer.allocate(WINDOW).limit(0);
  /** The file offset of the window's first byte. */
  private long windowStart;
  private long position;
  private boolean open = true;

  InputChannel(StoreInput input) {
    this.input = input;
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

  /** Reads the window from {@link #position}: as far as it holds, or to the end of the input. */
  private void moveWindow() throws IOException {
    window.clear();
    windowStart = position;
    while (window.hasRemaining() && input.read(window, windowStart + window.position()) > 0) {
      // fills the window up to the end of the input
    }
    window.flip();
  }

  /** Whether the window holds the byte at {@code offset}. */
  private boolean inWindow(long offset) {
    return offset >= windowStart && offset < windowStart + window.limit();
  }

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
