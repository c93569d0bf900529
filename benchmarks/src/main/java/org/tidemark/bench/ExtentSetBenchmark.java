package org.tidemark.bench;

import com.google.common.collect.Range;
import com.google.common.collect.RangeSet;
import com.google.common.collect.TreeRangeSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ExtentSet;

/**
 * The engine's byte-range set ({@link ExtentSet}) against Guava's {@code TreeRangeSet} doing the same
 * job, and against the three hand-written versions ExtentSet replaced, kept here only as the
 * same-run baseline:
 * <ul>
 *   <li>{@code union*}: the union of dirty runs, 4 lists (2 bitmaps in 2 layers of a backing chain)
 *       of {@code runs} sorted runs each at 64 KiB granularity over 1 TiB: the qcow2 reader's old
 *       {@code TreeMap} merge ({@code Bitmaps.addRun}) and the NBD export's old sort-and-sweep;</li>
 *   <li>{@code claim*}: a restore plan's "newest wins", a chain of 8 archives of {@code runs}
 *       extents each, newest first, each extent taking the bytes no newer archive took
 *       ({@code RestorePlanner.claim}).</li>
 * </ul>
 * Inputs from a fixed seed. The score is whole operations per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(2)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ExtentSetBenchmark {
  private static final long GRANULE = 65536;
  private static final long SIZE = 1L << 40;

  @Param({"1000", "50000"})
  int runs;

  long[][] union; // per list: from, to, from, to, ...
  long[][] chain; // per archive, newest first: from, to, ...

  @Setup
  public void setup() {
    SplittableRandom r = new SplittableRandom(20261205);
    union = new long[4][];
    for (int i = 0; i < union.length; i++) {
      union[i] = sortedRuns(r, runs);
    }
    chain = new long[8][];
    for (int i = 0; i < chain.length; i++) {
      chain[i] = sortedRuns(r, runs);
    }
  }

  /** {@code n} disjoint sorted runs of 1 to 16 granules, at random granule offsets over the disk. */
  private static long[] sortedRuns(SplittableRandom r, int n) {
    long[] starts = new long[n];
    for (int i = 0; i < n; i++) {
      starts[i] = r.nextLong(SIZE / GRANULE) * GRANULE;
    }
    Arrays.sort(starts);
    long[] out = new long[2 * n];
    int k = 0;
    long end = 0;
    for (long s : starts) {
      long from = Math.max(s, end);
      long to = Math.min(SIZE, from + (1 + r.nextInt(16)) * GRANULE);
      if (from < to) {
        out[k++] = from;
        out[k++] = to;
        end = to;
      }
    }
    return Arrays.copyOf(out, k);
  }

  @Benchmark
  public List<Extent> unionExtentSet() {
    ExtentSet set = new ExtentSet();
    for (long[] list : union) {
      for (int i = 0; i < list.length; i += 2) {
        set.add(list[i], list[i + 1]);
      }
    }
    return set.extents();
  }

  @Benchmark
  public List<Extent> unionGuavaRangeSet() {
    RangeSet<Long> set = TreeRangeSet.create();
    for (long[] list : union) {
      for (int i = 0; i < list.length; i += 2) {
        set.add(Range.closedOpen(list[i], list[i + 1]));
      }
    }
    return GuavaRanges.extents(set);
  }

  @Benchmark
  public List<Extent> unionOldTreeMap() {
    TreeMap<Long, Long> set = new TreeMap<>();
    for (long[] list : union) {
      for (int i = 0; i < list.length; i += 2) {
        OldTreeMapUnion.addRun(set, list[i], list[i + 1]);
      }
    }
    List<Extent> out = new ArrayList<>();
    set.forEach((a, z) -> out.add(new Extent(a, z - a, false)));
    return out;
  }

  @Benchmark
  public List<Extent> unionOldSortAndSweep() {
    TreeMap<Long, Long> ranges = new TreeMap<>();
    for (long[] list : union) {
      for (int i = 0; i < list.length; i += 2) {
        ranges.merge(list[i], list[i + 1] - list[i], Math::max);
      }
    }
    return OldSortAndSweep.sweep(ranges);
  }

  @Benchmark
  public int claimExtentSet() {
    ExtentSet uncovered = ExtentSet.of(0, SIZE);
    int pieces = 0;
    for (long[] archive : chain) {
      for (int i = 0; i < archive.length; i += 2) {
        pieces += uncovered.remove(archive[i], archive[i + 1]).size();
      }
    }
    return pieces + uncovered.extents().size();
  }

  @Benchmark
  public int claimGuavaRangeSet() {
    RangeSet<Long> uncovered = TreeRangeSet.create(List.of(Range.closedOpen(0L, SIZE)));
    int pieces = 0;
    for (long[] archive : chain) {
      for (int i = 0; i < archive.length; i += 2) {
        Range<Long> r = Range.closedOpen(archive[i], archive[i + 1]);
        pieces += GuavaRanges.extents(uncovered.subRangeSet(r)).size();
        uncovered.remove(r);
      }
    }
    return pieces + uncovered.asRanges().size();
  }

  @Benchmark
  public int claimOldTreeMap() {
    TreeMap<Long, Long> uncovered = new TreeMap<>(Map.of(0L, SIZE));
    int pieces = 0;
    for (long[] archive : chain) {
      for (int i = 0; i < archive.length; i += 2) {
        pieces += OldClaim.claim(uncovered, archive[i], archive[i + 1]).size();
      }
    }
    return pieces + uncovered.size();
  }

  /** ExtentSet as first written on Guava's RangeSet (slower: kept as a candidate, not in the engine). */
  static final class GuavaRanges {
    static List<Extent> extents(RangeSet<Long> set) {
      List<Extent> out = new ArrayList<>();
      for (Range<Long> r : set.asRanges()) {
        out.add(new Extent(r.lowerEndpoint(), r.upperEndpoint() - r.lowerEndpoint(), false));
      }
      return out;
    }
  }

  /** The qcow2 reader's union before ExtentSet (Bitmaps.addRun), as it was. */
  static final class OldTreeMapUnion {
    static void addRun(TreeMap<Long, Long> runs, long from, long to) {
      Map.Entry<Long, Long> before = runs.floorEntry(from);
      if (before != null && before.getValue() >= from) {
        from = before.getKey();
        to = Math.max(to, before.getValue());
        runs.remove(before.getKey());
      }
      Map.Entry<Long, Long> next = runs.ceilingEntry(from);
      while (next != null && next.getKey() <= to) {
        to = Math.max(to, next.getValue());
        runs.remove(next.getKey());
        next = runs.ceilingEntry(from);
      }
      runs.put(from, to);
    }
  }

  /** The NBD export's union before ExtentSet (NbdExport.dirtyExtents' sweep), as it was. */
  static final class OldSortAndSweep {
    static List<Extent> sweep(TreeMap<Long, Long> ranges) {
      List<Extent> out = new ArrayList<>();
      for (var e : ranges.entrySet()) {
        long start = e.getKey();
        long end = start + e.getValue();
        if (!out.isEmpty() && out.get(out.size() - 1).end() >= start) {
          Extent last = out.remove(out.size() - 1);
          start = last.offset();
          end = Math.max(end, last.end());
        }
        out.add(new Extent(start, end - start, false));
      }
      return out;
    }
  }

  /** The restore planner's "newest wins" before ExtentSet (RestorePlanner.claim), as it was. */
  static final class OldClaim {
    static List<long[]> claim(TreeMap<Long, Long> uncovered, long from, long to) {
      List<long[]> parts = new ArrayList<>();
      if (from >= to) {
        return parts;
      }
      Map.Entry<Long, Long> floor = uncovered.floorEntry(from);
      Long start = floor != null && floor.getValue() > from ? floor.getKey() : uncovered.ceilingKey(from);
      while (start != null && start < to) {
        long end = uncovered.get(start);
        long a = Math.max(start, from);
        long b = Math.min(end, to);
        uncovered.remove(start);
        if (start < a) {
          uncovered.put(start, a);
        }
        if (b < end) {
          uncovered.put(b, end);
        }
        parts.add(new long[] {a, b});
        start = uncovered.ceilingKey(b);
      }
      return parts;
    }
  }
}
