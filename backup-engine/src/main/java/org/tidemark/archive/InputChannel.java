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
 */
final class InputChannel implements SeekableByteChannel {
  private final StoreInput input;
  private long position;
  private boolean open = true;

  InputChannel(StoreInput input) {
    this.input = input;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    ensureOpen();
    int n = input.read(dst, position);
    if (n > 0) {
      position += n;
    }
    return n;
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
