package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * The image file, read with positional reads: every offset and length is checked against the
 * file's size before it is read, and a read that meets the end of the file is a typed error.
 * Thread-safe.
 */
final class ImageFile {
  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final org.tidemark.internal.Holes holes;

  ImageFile(Path path, FileChannel channel) throws IOException {
    this.path = path;
    this.channel = channel;
    this.size = channel.size();
    this.holes = org.tidemark.internal.Holes.of(path);
  }

  /**
   * Whether {@code [offset, offset + length)} lies in a hole of the file (reads as zeros): the
   * file system says so without a read ({@link org.tidemark.internal.Holes}); false when unknown.
   */
  boolean isHole(long offset, long length) {
    return holes.isHole(offset, length);
  }

  /**
   * The runs of data and holes of the file's bytes {@code [offset, end)} ({@link
   * org.tidemark.internal.Holes#runs}), refusing a file cut after it was opened: where no data
   * follows, the file's present size is compared with its size at open.
   */
  java.util.List<org.tidemark.internal.Holes.Run> runs(long offset, long end, String what) throws IOException {
    java.util.List<org.tidemark.internal.Holes.Run> runs = holes.runs(offset, end);
    org.tidemark.internal.Holes.Run last = runs.get(runs.size() - 1);
    if (last.hole() && holes.noDataFrom(last.start()) && channel.size() < size) {
      throw new CorruptImageException(path, what + ": the file ends at " + channel.size()
          + " (it was cut after it was opened?)");
    }
    return runs;
  }

  /** What the file system tells of the file's holes and allocation. */
  org.tidemark.internal.Holes holes() {
    return holes;
  }

  /** The file, as the caller named it. */
  Path path() {
    return path;
  }

  /** The file's size when it was opened. */
  long size() {
    return size;
  }

  FileChannel channel() {
    return channel;
  }

  /**
   * Checks that [offset, offset + length) lies inside the file, and when {@code alignment} is not 0
   * that the offset is a multiple of it (the cluster size).
   */
  void checkRange(long offset, long length, String what, int alignment) throws CorruptImageException {
    if (offset < 0 || length < 0 || offset > size || length > size - offset) {
      throw new CorruptImageException(path, what + ": offset 0x" + Long.toHexString(offset) + " + " + length
          + " bytes is past the end of the file (" + size + " bytes)");
    }
    if (alignment != 0 && (offset & (alignment - 1)) != 0) {
      throw new CorruptImageException(path, what + ": offset 0x" + Long.toHexString(offset)
          + " is not aligned to the cluster size " + alignment);
    }
  }

  /** Reads {@code length} bytes at {@code offset} into a new buffer, flipped. */
  ByteBuffer read(long offset, int length, String what) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(length);
    readInto(offset, b, what);
    return b.flip();
  }

  /** Fills {@code dst} from {@code offset}. */
  void readInto(long offset, ByteBuffer dst, String what) throws IOException {
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new CorruptImageException(path, what + ": the file ends at " + pos + " (it was cut after it was opened?)");
      }
      pos += n;
    }
  }

  void close() throws IOException {
    try {
      channel.close();
    } finally {
      holes.close();
    }
  }
}
