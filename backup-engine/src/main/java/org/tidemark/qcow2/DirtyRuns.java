package org.tidemark.qcow2;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.disk.Extent;

/**
 * Turns the bits of a dirty bitmap, fed in order, into coalesced dirty runs of guest bytes: bit i
 * covers guest bytes [i*granularity, (i+1)*granularity), clipped to the disk's size.
 *
 * <p>Words are scanned 64 bits at a time: all-clear and all-set words in one step, mixed words a
 * run at a time with {@link Long#numberOfTrailingZeros}, so the cost grows with the number of runs,
 * not of bits. Not thread-safe: one per scan.
 */
public final class DirtyRuns {
  /** Receives the dirty runs in order, each ending before the next starts (with a gap). */
  @FunctionalInterface
  public interface Sink {
    /** Guest bytes [offset, offset + length) are dirty. */
    void run(long offset, long length);
  }

  private final long granularity;
  private final long size;
  private final List<Extent> out = new ArrayList<>();
  private final Sink sink;
  /** The first bit of the dirty run being built, or -1. */
  private long runStart = -1;

  /** Runs of a bitmap of {@code granularity} bytes per bit over a disk of {@code size} bytes. */
  public DirtyRuns(long granularity, long size) {
    this.granularity = granularity;
    this.size = size;
    this.sink = (offset, length) -> out.add(new Extent(offset, length, false));
  }

  /** The same, handing each run to {@code sink} instead of collecting them ({@link #finish} returns none). */
  public DirtyRuns(long granularity, long size, Sink sink) {
    this.granularity = granularity;
    this.size = size;
    this.sink = sink;
  }

  /** Bits [from, to) are all set, or all clear. */
  public void fill(boolean set, long from, long to) {
    if (set) {
      if (runStart < 0) {
        runStart = from;
      }
    } else if (runStart >= 0) {
      long a = runStart * granularity;
      long z = Math.min(size, from * granularity);
      if (z > a) {
        sink.run(a, z - a);
      }
      runStart = -1;
    }
  }

  /** Reused by {@link #words(ByteBuffer, long, long)}. */
  private long[] scratch = new long[0];

  /**
   * Bits [firstBit, firstBit + nBits) from {@code data}, little-endian 64-bit words from index 0
   * (bit 0 of byte 0 first), as a qcow2 bitmap data cluster stores them.
   */
  public void words(ByteBuffer data, long firstBit, long nBits) {
    int n = (int) ((nBits + 63) >>> 6);
    if (scratch.length < n) {
      scratch = new long[n];
    }
    data.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear().asLongBuffer().get(scratch, 0, n);
    words(scratch, firstBit, nBits);
  }

  /** The same from an array of words. */
  public void words(long[] data, long firstBit, long nBits) {
    int full = (int) (nBits >>> 6);
    int w = 0;
    while (w < full) {
      long word = data[w];
      if (word == 0 || word == -1L) {
        // a stretch of clear (or set) words: one step, whatever its length
        int end = w + 1;
        while (end < full && data[end] == word) {
          end++;
        }
        fill(word != 0, firstBit + 64L * w, firstBit + 64L * end);
        w = end;
      } else {
        word(word, firstBit + 64L * w, 64);
        w++;
      }
    }
    if ((nBits & 63) != 0) {
      word(data[full], firstBit + 64L * full, (int) (nBits & 63));
    }
  }

  /** The low {@code limit} bits of {@code word} are bits [base, base + limit). */
  public void word(long word, long base, int limit) {
    if (limit < 64) {
      word &= (1L << limit) - 1;
    }
    if (word == 0) {
      fill(false, base, base + limit);
      return;
    }
    if (word == -1L) {
      fill(true, base, base + limit);
      return;
    }
    int bit = 0;
    while (bit < limit) {
      long rest = word >>> bit;
      int n;
      if ((rest & 1) != 0) {
        n = Math.min(Long.numberOfTrailingZeros(~rest), limit - bit);
        fill(true, base + bit, base + bit + n);
      } else {
        n = rest == 0 ? limit - bit : Math.min(Long.numberOfTrailingZeros(rest), limit - bit);
        fill(false, base + bit, base + bit + n);
      }
      bit += n;
    }
  }

  /** Closes the last run at bit {@code totalBits} and returns the runs (none with a sink of one's own). */
  public List<Extent> finish(long totalBits) {
    fill(false, totalBits, totalBits);
    return out;
  }
}
