package org.tidemark.backup;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.tidemark.internal.DirectWrites;

/**
 * The buffers of the chunks a backup has in flight: for each chunk a raw buffer (the guest bytes
 * read) and a scratch buffer (its encoding), both of its own length, cut from one direct ring of a
 * fixed capacity and given back in the order they were taken (the order chunks are written).
 *
 * <p>The window is bounded by bytes, not by a count of chunks: a backup of small chunks (an
 * incremental whose dirty extents are a few clusters long) keeps as many bytes in flight as one of
 * whole chunks, so the encoders are not left waiting while the archive writer writes. The ring is
 * allocated at the first {@link #take}, no larger than the bytes the copy will need. Each buffer
 * starts at a multiple of {@value #ALIGN} bytes of an aligned allocation, so that chunks written
 * straight from it can go around the page cache ({@link DirectWrites}).
 *
 * <p>Not thread-safe: the copying thread takes and releases; the workers only fill what it took.
 */
final class ChunkBuffers {
  /** Each buffer starts at a multiple of this many bytes, and takes a multiple of it. */
  static final int ALIGN = 4096;

  private final int capacity;
  /** The (start, end) of each pair taken and not yet released, oldest first. */
  private final ArrayDeque<long[]> taken = new ArrayDeque<>();
  private ByteBuffer ring;
  /** Where the next pair starts when it fits there. */
  private int head;

  /**
   * A ring of {@code capacity} bytes (rounded up to {@value #ALIGN}), or fewer when {@code needed}
   * bytes (the sum of {@link #footprint} over the chunks to copy) are fewer.
   */
  ChunkBuffers(long capacity, long needed) {
    long c = roundUp(Math.min(capacity, needed));
    if (c < 0 || c > Integer.MAX_VALUE - DirectWrites.MAX_ALIGNMENT * 2L) {
      throw new IllegalArgumentException("ring of " + c + " bytes (expected: 0 <= bytes < 2 GiB)");
    }
    this.capacity = (int) c;
  }

  /** The bytes the pair of a chunk of {@code length} bytes takes in the ring. */
  static long footprint(int length) {
    return 2 * roundUp(length);
  }

  /**
   * A raw and a scratch buffer of {@code length} bytes each, or null when the ring has no room for
   * them until the oldest pair is {@link #releaseOldest released}.
   *
   * @throws IllegalArgumentException when a pair of that length does not fit in the ring at all
   */
  ByteBuffer[] take(int length) {
    int size = (int) footprint(length);
    if (length <= 0 || size > capacity) {
      throw new IllegalArgumentException("chunk of " + length + " bytes (expected: 0 < footprint " + size
          + " <= ring of " + capacity + ")");
    }
    if (ring == null) {
      ring = DirectWrites.allocate(capacity);
    }
    int at = place(size);
    if (at < 0) {
      return null;
    }
    taken.add(new long[] {at, at + size});
    head = at + size;
    int half = size / 2;
    return new ByteBuffer[] {ring.slice(at, half), ring.slice(at + half, half)};
  }

  /** Where a pair of {@code size} bytes starts, or -1 when it does not fit now. */
  private int place(int size) {
    if (taken.isEmpty()) {
      return 0;
    }
    int tail = (int) taken.peekFirst()[0];
    if (head > tail) { // free: [head, capacity) and [0, tail)
      return capacity - head >= size ? head : tail >= size ? 0 : -1;
    }
    return tail - head >= size ? head : -1; // wrapped: free is [head, tail)
  }

  /** Gives back the oldest pair taken; its buffers must no longer be used. */
  void releaseOldest() {
    if (taken.poll() == null) {
      throw new IllegalStateException("no chunk buffers taken");
    }
  }

  /** How many pairs are taken and not released. */
  int inFlight() {
    return taken.size();
  }

  /** The ring's size in bytes. */
  int capacity() {
    return capacity;
  }

  private static long roundUp(long n) {
    return (n + ALIGN - 1) / ALIGN * ALIGN;
  }
}
