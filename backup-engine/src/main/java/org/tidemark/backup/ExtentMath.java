package org.tidemark.backup;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.disk.Extent;

/**
 * Extent arithmetic of the backup: what to store for a disk, as manifest extents, within the
 * archive's limits ({@link ArchiveLimits}): at most {@link ArchiveLimits#MAX_EXTENTS} extents
 * ({@link #bound}, {@link #budgets}) and {@link ArchiveLimits#MAX_CHUNKS} chunks ({@link #chunkSize}).
 * The limit helpers are public for the other writer of new archives, consolidation; stateless.
 */
public final class ExtentMath {
  private ExtentMath() {}

  /**
   * A full backup stores the whole disk as the allocation map says: data where allocated, zeros
   * elsewhere (the whole disk is "dirty").
   */
  static List<ExtentRecord> full(List<Extent> allocation, long size) {
    return size == 0 ? List.of() : incremental(List.of(new Extent(0, size, false)), allocation, size);
  }

  /**
   * An incremental backup stores the dirty ranges, each split by the allocation: a dirty range
   * that now reads as zeros is recorded as zeros (not skipped), so a restore clears it.
   */
  static List<ExtentRecord> incremental(List<Extent> dirty, List<Extent> allocation, long size) {
    List<Extent> alloc = clip(allocation, size);
    List<Extent> out = new ArrayList<>();
    int j = 0;
    for (Extent d : clip(dirty, size)) {
      while (j < alloc.size() && alloc.get(j).end() <= d.offset()) {
        j++;
      }
      long pos = d.offset();
      for (int k = j; k < alloc.size() && pos < d.end(); k++) {
        Extent a = alloc.get(k);
        if (a.offset() >= d.end()) {
          break;
        }
        long from = Math.max(pos, a.offset());
        long to = Math.min(d.end(), a.end());
        if (from > pos) {
          // a gap in the allocation map reads as zeros
          out.add(new Extent(pos, from - pos, true));
        }
        if (to > from) {
          out.add(new Extent(from, to - from, a.zero()));
        }
        pos = Math.max(pos, to);
      }
      if (pos < d.end()) {
        out.add(new Extent(pos, d.end() - pos, true));
      }
    }
    return merge(out);
  }

  /** Drops what lies past {@code size} and checks the extents are sorted and disjoint. */
  private static List<Extent> clip(List<Extent> extents, long size) {
    List<Extent> out = new ArrayList<>(extents.size());
    long prev = 0;
    for (Extent e : extents) {
      if (e.offset() < prev) {
        throw new IllegalArgumentException("extents overlap or are out of order at " + e.offset());
      }
      prev = e.end();
      if (e.offset() >= size) {
        break;
      }
      out.add(e.end() <= size ? e : new Extent(e.offset(), size - e.offset(), e.zero()));
    }
    return out;
  }

  /** Joins touching extents of the same kind. */
  private static List<ExtentRecord> merge(List<Extent> extents) {
    List<ExtentRecord> out = new ArrayList<>();
    for (Extent e : extents) {
      if (!out.isEmpty()) {
        ExtentRecord last = out.get(out.size() - 1);
        if (last.end() == e.offset() && last.zero() == e.zero()) {
          out.set(out.size() - 1, new ExtentRecord(last.offset(), last.length() + e.length(), e.zero()));
          continue;
        }
      }
      out.add(new ExtentRecord(e.offset(), e.length(), e.zero()));
    }
    return out;
  }

  /**
   * The extents with at most {@code max} entries: when there are more, the smallest holes are
   * filled first. A hole is a zero extent, or a gap between two extents (a range the backup does
   * not cover: unchanged since the parent). With a threshold {@code t}, every zero extent of at most
   * {@code t} bytes becomes data, and two data extents at most {@code t} bytes apart become one,
   * the gap between them data too; {@code t} is the smallest hole length that brings the count to
   * {@code max} (found by bisection over the hole lengths: the count only falls as {@code t} grows,
   * and is 1 once every hole is filled). A filled hole is read from the source like any data: it
   * holds the guest's current bytes (zeros, for a zero extent), so a restore stays exact; the cost is
   * the bytes read and stored for it.
   *
   * @param max at least 1
   */
  public static List<ExtentRecord> bound(List<ExtentRecord> extents, int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max " + max);
    }
    if (extents.size() <= max) {
      return extents;
    }
    long[] holes = new long[2 * extents.size()];
    int n = 0;
    for (int i = 0; i < extents.size(); i++) {
      ExtentRecord e = extents.get(i);
      if (e.zero()) {
        holes[n++] = e.length();
      }
      if (i > 0) {
        holes[n++] = e.offset() - extents.get(i - 1).end();
      }
    }
    Arrays.sort(holes, 0, n);
    int lo = 0; // bisection over holes[0..n): the first threshold that gives at most max extents
    int hi = n - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (fill(extents, holes[mid], null) <= max) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    List<ExtentRecord> out = new ArrayList<>();
    fill(extents, holes[lo], out);
    return out;
  }

  /** How many extents are left when the holes of at most {@code t} bytes are filled. */
  static int count(List<ExtentRecord> extents, long t) {
    return fill(extents, t, null);
  }

  /** Fills the holes of at most {@code t} bytes: the extent count, and the extents into {@code out} unless null. */
  private static int fill(List<ExtentRecord> extents, long t, List<ExtentRecord> out) {
    int count = 0;
    long start = -1;
    long end = -1;
    boolean zero = false;
    for (ExtentRecord e : extents) {
      boolean z = e.zero() && e.length() > t;
      boolean joins = count > 0 && (z == zero && e.offset() == end || !z && !zero && e.offset() - end <= t);
      if (joins) {
        end = e.end();
        continue;
      }
      if (count > 0 && out != null) {
        out.add(new ExtentRecord(start, end - start, zero));
      }
      count++;
      start = e.offset();
      end = e.end();
      zero = z;
    }
    if (count > 0 && out != null) {
      out.add(new ExtentRecord(start, end - start, zero));
    }
    return count;
  }

  /**
   * How many extents each disk may keep so that all together keep at most {@code total}: a disk
   * with fewer than an equal share keeps all of its own, and what it leaves is shared among the
   * others.
   *
   * @param counts each disk's extent count
   * @return each disk's limit, at least 1; their sum is at most {@code total} when {@code total} is
   *     at least the number of disks
   */
  public static int[] budgets(int[] counts, int total) {
    int[] out = new int[counts.length];
    Integer[] order = new Integer[counts.length];
    for (int i = 0; i < counts.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Integer.compare(counts[a], counts[b]));
    long left = total;
    for (int k = 0; k < order.length; k++) {
      int share = (int) Math.max(1, left / (order.length - k));
      int d = order[k];
      out[d] = Math.min(Math.max(counts[d], 1), share);
      left -= out[d];
    }
    return out;
  }

  /**
   * The chunk size for the disks' extents: {@code requested}, doubled (up to {@link
   * ArchiveLimits#MAX_CHUNK}) while the data extents would need more than {@link
   * ArchiveLimits#MAX_CHUNKS} chunks of it; -1 when even {@link ArchiveLimits#MAX_CHUNK} needs more.
   */
  public static int chunkSize(int requested, List<List<ExtentRecord>> disks) {
    int size = requested;
    while (chunks(disks, size) > ArchiveLimits.MAX_CHUNKS) {
      if (size >= ArchiveLimits.MAX_CHUNK) {
        return -1;
      }
      size = (int) Math.min(ArchiveLimits.MAX_CHUNK, 2L * size);
    }
    return size;
  }

  /** The chunks of {@code size} bytes the data extents take. */
  public static long chunks(List<List<ExtentRecord>> disks, int size) {
    long n = 0;
    for (List<ExtentRecord> extents : disks) {
      for (ExtentRecord e : extents) {
        if (!e.zero()) {
          n += (e.length() + size - 1) / size;
        }
      }
    }
    return n;
  }
}
