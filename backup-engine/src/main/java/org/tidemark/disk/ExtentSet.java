package org.tidemark.disk;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of guest bytes, kept as disjoint ranges: the one place Tidemark adds and takes away byte
 * ranges (the union of dirty bitmaps down a backing chain or over NBD, the bytes of a restored disk
 * no newer archive has claimed yet). Ranges that touch or overlap are joined. Not thread-safe.
 *
 * <p>Added ranges wait, by start, until the set is next read or taken from; they are then swept
 * into the set in one pass, so a union of many runs costs one sorted insertion each rather than a
 * search for neighbours each. (Guava's {@code TreeRangeSet} does the same job several times slower
 * here: see {@code ExtentSetBenchmark} and docs/performance.md.)
 */
public final class ExtentSet {
  /** The set: start to end, disjoint and not touching, by start. */
  private TreeMap<Long, Long> ranges = new TreeMap<>();
  /** Ranges added since the last sweep: start to the largest end added at that start. */
  private TreeMap<Long, Long> added = new TreeMap<>();

  /** An empty set. */
  public ExtentSet() {}

  /** The bytes {@code [from, to)}; empty when {@code to <= from}. */
  public static ExtentSet of(long from, long to) {
    ExtentSet s = new ExtentSet();
    s.add(from, to);
    return s;
  }

  /** Adds the bytes {@code [from, to)}; nothing when {@code to <= from}. */
  public void add(long from, long to) {
    if (from < to) {
      added.merge(from, to, Math::max);
    }
  }

  /**
   * Takes the bytes {@code [from, to)} out of the set.
   *
   * @return the parts of {@code [from, to)} that were in the set, in order, as data extents
   */
  public List<Extent> remove(long from, long to) {
    sweep();
    List<Extent> taken = new ArrayList<>();
    if (from >= to) {
      return taken;
    }
    Map.Entry<Long, Long> floor = ranges.floorEntry(from);
    Long start = floor != null && floor.getValue() > from ? floor.getKey() : ranges.ceilingKey(from);
    while (start != null && start < to) {
      long end = ranges.remove(start);
      long a = Math.max(start, from);
      long b = Math.min(end, to);
      if (start < a) {
        ranges.put(start, a);
      }
      if (b < end) {
        ranges.put(b, end);
      }
      taken.add(new Extent(a, b - a, false));
      start = ranges.ceilingKey(b);
    }
    return taken;
  }

  /** Whether the set holds no byte. */
  public boolean isEmpty() {
    return ranges.isEmpty() && added.isEmpty();
  }

  /** The set's ranges in order, as data extents (not {@link Extent#zero zero}). */
  public List<Extent> extents() {
    sweep();
    List<Extent> out = new ArrayList<>(ranges.size());
    ranges.forEach((a, z) -> out.add(new Extent(a, z - a, false)));
    return out;
  }

  /**
   * Moves the added ranges into the set, joined with each other and with the set's: they are joined
   * in place, in one pass in order, and become the set when it was empty (the usual case: a union
   * of runs, then read).
   */
  private void sweep() {
    if (added.isEmpty()) {
      return;
    }
    Iterator<Map.Entry<Long, Long>> it = added.entrySet().iterator();
    Map.Entry<Long, Long> last = it.next();
    while (it.hasNext()) {
      Map.Entry<Long, Long> e = it.next();
      if (e.getKey() <= last.getValue()) {
        last.setValue(Math.max(last.getValue(), e.getValue()));
        it.remove();
      } else {
        last = e;
      }
    }
    if (ranges.isEmpty()) {
      TreeMap<Long, Long> empty = ranges;
      ranges = added;
      added = empty;
    } else {
      added.forEach((from, to) -> join(from, to));
      added.clear();
    }
  }

  /** Adds {@code [from, to)} to the set, joined with the ranges it touches or overlaps. */
  private void join(long from, long to) {
    Map.Entry<Long, Long> before = ranges.floorEntry(from);
    if (before != null && before.getValue() >= from) {
      from = before.getKey();
      to = Math.max(to, before.getValue());
      ranges.remove(before.getKey());
    }
    Map.Entry<Long, Long> next = ranges.ceilingEntry(from);
    while (next != null && next.getKey() <= to) {
      to = Math.max(to, next.getValue());
      ranges.remove(next.getKey());
      next = ranges.ceilingEntry(from);
    }
    ranges.put(from, to);
  }
}
