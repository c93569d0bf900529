package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ExtentRecord;

/**
 * The extent bound of a backup ({@link ExtentMath#bound}): seeded random extent lists, full-style
 * (tiling the disk, data and zeros) and incremental-style (gaps between), bounded to random
 * limits. Checked byte by byte against the input on a small disk: every data byte stays data,
 * every byte the result calls zero was zero, nothing outside the input's span is added, and the
 * bytes added are the smallest holes.
 */
class ExtentMathTest {
  static Stream<Long> seeds() {
    return LongStream.rangeClosed(1, 40).boxed();
  }

  /** Sorted, disjoint extents over [0, size): full (no gaps) or with gaps; touching ones of a kind merged. */
  private static List<ExtentRecord> random(Random r, int size, boolean full) {
    List<ExtentRecord> out = new ArrayList<>();
    int pos = 0;
    while (pos < size) {
      int len = Math.min(size - pos, 1 + r.nextInt(r.nextBoolean() ? 8 : 64));
      boolean zero = r.nextInt(3) == 0;
      boolean gap = !full && r.nextInt(3) == 0;
      if (!gap) {
        ExtentRecord last = out.isEmpty() ? null : out.get(out.size() - 1);
        if (last != null && last.end() == pos && last.zero() == zero) {
          out.set(out.size() - 1, new ExtentRecord(last.offset(), last.length() + len, zero));
        } else {
          out.add(new ExtentRecord(pos, len, zero));
        }
      }
      pos += len;
    }
    return out;
  }

  /** Per byte: 0 not covered, 1 zero, 2 data. */
  private static byte[] map(List<ExtentRecord> extents, int size) {
    byte[] m = new byte[size];
    for (ExtentRecord e : extents) {
      for (long i = e.offset(); i < e.end(); i++) {
        m[(int) i] = (byte) (e.zero() ? 1 : 2);
      }
    }
    return m;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void boundedExtentsKeepEveryDataByteAndFillTheSmallestHoles(long seed) {
    Random r = new Random(seed);
    int size = 2000 + r.nextInt(20000);
    List<ExtentRecord> in = random(r, size, seed % 2 == 0);
    int max = 1 + r.nextInt(Math.max(1, in.size()));
    List<ExtentRecord> out = ExtentMath.bound(in, max);
    assertTrue(out.size() <= max, out.size() + " > " + max);
    long pos = -1;
    for (int i = 0; i < out.size(); i++) {
      ExtentRecord e = out.get(i);
      assertTrue(e.offset() >= pos, "sorted and disjoint at " + e);
      if (i > 0) {
        ExtentRecord prev = out.get(i - 1);
        assertTrue(prev.end() < e.offset() || prev.zero() != e.zero(), "touching extents of a kind are merged: " + e);
      }
      pos = e.end();
    }
    byte[] before = map(in, size);
    byte[] after = map(out, size);
    long filledMax = 0;
    for (int i = 0; i < size; i++) {
      if (before[i] == 2) {
        assertEquals(2, after[i], "data byte " + i + " stays data");
      }
      if (after[i] == 1) {
        assertEquals(1, before[i], "byte " + i + " is zero only where it was");
      }
      if (before[i] == 0 && after[i] != 0) {
        assertEquals(2, after[i], "a gap filled becomes data, at " + i);
      }
    }
    assertTrue(out.get(0).offset() == in.get(0).offset() && pos == in.get(in.size() - 1).end(), "the same span");
    // the holes filled are no longer than those left: each zero extent left and each gap left between
    // two data extents is longer than every hole filled
    for (ExtentRecord e : in) {
      if (e.zero() && after[(int) e.offset()] == 2) {
        filledMax = Math.max(filledMax, e.length());
      }
    }
    for (int i = 1; i < in.size(); i++) {
      long gap = in.get(i).offset() - in.get(i - 1).end();
      if (gap > 0 && after[(int) in.get(i - 1).end()] == 2) {
        filledMax = Math.max(filledMax, gap);
      }
    }
    for (ExtentRecord e : out) {
      if (e.zero()) {
        assertTrue(e.length() > filledMax, "zero extent " + e + " left, a hole of "
            + filledMax + " filled");
      }
    }
    if (in.size() <= max) {
      assertSame(in, out, "within the limit: unchanged");
    } else {
      // the smallest holes that are enough: filling only those shorter than the longest filled leaves too many
      assertEquals(out.size(), ExtentMath.count(in, filledMax));
      assertTrue(ExtentMath.count(in, filledMax - 1) > max, "filling less than " + filledMax + " would do");
    }
  }

  @Test
  void budgetsShareWhatSmallDisksLeave() {
    assertEquals(List.of(3, 60, 37), box(ExtentMath.budgets(new int[] {3, 500, 37}, 100)));
    assertEquals(List.of(50, 50), box(ExtentMath.budgets(new int[] {1000, 1000}, 100)));
    assertEquals(List.of(1, 1), box(ExtentMath.budgets(new int[] {0, 0}, 100)));
    int[] many = new int[ArchiveLimits.MAX_DISKS];
    java.util.Arrays.fill(many, 1 << 20);
    assertTrue(java.util.Arrays.stream(ExtentMath.budgets(many, ArchiveLimits.MAX_EXTENTS)).sum() <= ArchiveLimits.MAX_EXTENTS);
  }

  private static List<Integer> box(int[] a) {
    return java.util.Arrays.stream(a).boxed().toList();
  }

  @Test
  void chunkSizeDoublesUntilTheChunksFit() {
    long tib = 1L << 40;
    List<List<ExtentRecord>> oneTib = List.of(List.of(new ExtentRecord(0, tib, false)));
    assertEquals(4 << 20, ExtentMath.chunkSize(4 << 20, oneTib), "1 TiB in 262,144 chunks of 4 MiB");
    List<List<ExtentRecord>> sixteen = List.of(List.of(new ExtentRecord(0, 16 * tib, false)));
    assertEquals(8 << 20, ExtentMath.chunkSize(4 << 20, sixteen), "16 TiB: 2^21 chunks of 8 MiB");
    List<List<ExtentRecord>> max = List.of(List.of(new ExtentRecord(0, ArchiveLimits.MAX_DISK_SIZE, false)));
    assertEquals(ArchiveLimits.MAX_CHUNK, ExtentMath.chunkSize(4 << 20, max));
    assertEquals(-1, ExtentMath.chunkSize(4 << 20, List.of(max.get(0), max.get(0))), "two disks of 32 TiB do not fit");
  }
}
