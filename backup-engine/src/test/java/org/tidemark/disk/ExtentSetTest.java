package org.tidemark.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** {@link ExtentSet} against a plain array of bytes: seeded random adds and removals. */
class ExtentSetTest {
  private static final int SIZE = 300;

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 300);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void behavesAsASetOfBytes(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    ExtentSet set = r.nextBoolean() ? new ExtentSet() : ExtentSet.of(0, SIZE);
    boolean[] model = new boolean[SIZE];
    if (!set.isEmpty()) {
      java.util.Arrays.fill(model, true);
    }
    for (int step = 0; step < 40; step++) {
      int from = r.nextInt(SIZE);
      int to = from + r.nextInt(-5, Math.min(60, SIZE - from) + 1); // sometimes empty or backwards
      if (r.nextInt(3) > 0) {
        set.add(from, to);
        for (int i = from; i < to; i++) {
          model[i] = true;
        }
      } else {
        List<Extent> taken = set.remove(from, to);
        boolean[] was = new boolean[SIZE];
        for (int i = Math.max(0, from); i < to; i++) {
          was[i] = model[i];
          model[i] = false;
        }
        assertEquals(runs(was), taken, () -> "seed " + seed + ": taken from [" + from + ", " + to + ")");
      }
      assertEquals(runs(model), set.extents(), "seed " + seed);
      assertEquals(runs(model).isEmpty(), set.isEmpty());
    }
  }

  @Test
  void touchingRangesAreJoined() {
    ExtentSet set = new ExtentSet();
    set.add(10, 20);
    set.add(20, 30);
    set.add(40, 50);
    set.add(35, 41);
    assertEquals(List.of(new Extent(10, 20, false), new Extent(35, 15, false)), set.extents());
    assertEquals(List.of(new Extent(15, 15, false), new Extent(35, 5, false)), set.remove(15, 40));
    assertEquals(List.of(new Extent(10, 5, false), new Extent(40, 10, false)), set.extents());
  }

  /** The maximal runs of true, as data extents. */
  private static List<Extent> runs(boolean[] bytes) {
    List<Extent> out = new ArrayList<>();
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i]) {
        int j = i;
        while (j < bytes.length && bytes[j]) {
          j++;
        }
        out.add(new Extent(i, j - i, false));
        i = j;
      }
    }
    return out;
  }
}
