package org.tidemark.backup;

import java.util.ArrayList;
import java.util.List;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.disk.Extent;

/** Extent arithmetic of the backup: what to store for a disk, as manifest extents. */
final class ExtentMath {
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
}
