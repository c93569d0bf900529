package org.tidemark.qcow2;

import java.io.IOException;
import java.util.List;
import java.util.OptionalLong;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.disk.RawImage;
import org.tidemark.internal.Holes;
import org.tidemark.qcow2.Qcow2Image.MapEntry;

/**
 * One layer's part of the allocation map in {@code qemu-img map}'s terms: runs of units of one kind
 * (and for standard data, contiguous in the file), with the gaps the layer leaves unallocated asked
 * of its backing file for those ranges only. The work follows the extents: a step per allocated
 * unit, a tight scan per run of empty L2 entries, a step per L1 entry without a table (or with a
 * table of zeros), and each layer of a chain asked about each guest byte at most once.
 *
 * <p>Holes in the file below data clusters are asked for where QEMU asks ({@link
 * MetadataPreallocation}): there the parts of a data cluster that lie in a hole of the file holding
 * it (the image file, or the external data file; past its end too) are reported as {@code "zero":
 * true, "data": true} with their offset, as {@code qemu-img map} does, and read as zeros. A raw
 * backing file's holes are always asked for, as QEMU does ({@code "zero": true, "data": false}).
 * The file system's answers are whole runs and kept, so a data run costs a lookup, not a system call.
 */
final class AllocationMap {
  private final ClusterMap clusters;
  private final DiskSource backing;
  /** The holes of the external data file; null when the data clusters are in the image file. */
  private final Holes dataHoles;
  private final ImageFile file;
  private final Qcow2Header header;
  /** Whether QEMU would ask the file system about holes below data clusters; null until known. */
  private Boolean asksHoles;
  /** Work counters for tests: guest bytes this layer's map was asked about, steps of its map. */
  private final java.util.concurrent.atomic.AtomicLong mapBytesAsked = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong mapSteps = new java.util.concurrent.atomic.AtomicLong();

  AllocationMap(ClusterMap clusters, DiskSource backing, Holes dataHoles, ImageFile file, Qcow2Header header) {
    this.clusters = clusters;
    this.backing = backing;
    this.dataHoles = dataHoles;
    this.file = file;
    this.header = header;
  }

  /** Whether holes below data clusters are asked for: QEMU's metadata-preallocation rule, decided once. */
  private synchronized boolean asksHoles() throws IOException {
    if (asksHoles == null) {
      asksHoles = MetadataPreallocation.detect(file, header);
    }
    return asksHoles;
  }

  /**
   * Appends the map of guest bytes [from, to) of this layer (inside its virtual size), with depths
   * counted from {@code depth}: a step per allocated unit, a tight scan per run of unallocated L2
   * entries, a step per L1 entry without an L2 table; the gaps are asked of the backing file, for
   * those ranges only.
   */
  void map(long from, long to, int depth, List<MapEntry> out) throws IOException {
    if (from >= to) {
      return;
    }
    mapBytesAsked.addAndGet(to - from);
    int clusterBits = clusters.clusterBits;
    int unitBits = clusters.unitBits;
    int l2Bits = clusters.l2Bits;
    boolean extendedL2 = clusters.extendedL2;
    int unitsPerClusterBits = clusterBits - unitBits;
    int spanBits = unitsPerClusterBits + l2Bits; // units per L1 entry
    long unitMask = (1L << unitsPerClusterBits) - 1;
    int words = extendedL2 ? 2 : 1;
    long gapFrom = -1;
    long u = from >>> unitBits;
    long end = ((to - 1) >>> unitBits) + 1;
    while (u < end) {
      int l1Index = (int) (u >>> spanBits);
      long spanEnd = Math.min(end, (long) (l1Index + 1) << spanBits);
      long[] table = clusters.l2TableOf(l1Index);
      if (table == null || table == ClusterMap.emptyTable(clusterBits)) { // the whole L2 range at once
        gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
        u = spanEnd;
        continue;
      }
      int lastIndex = (int) (((spanEnd - 1) >>> unitsPerClusterBits) & ((1L << l2Bits) - 1));
      while (u < spanEnd) {
        long cluster = u >>> unitsPerClusterBits;
        int index = (int) (cluster & ((1L << l2Bits) - 1));
        long entry = table[index * words];
        long bitmap = extendedL2 ? table[index * words + 1] : 0;
        if (entry == 0 && bitmap == 0) { // unallocated clusters: skip the run of empty entries
          gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
          int k = index + 1;
          while (k <= lastIndex && table[k * words] == 0 && (!extendedL2 || table[k * words + 1] == 0)) {
            k++;
          }
          u = Math.min(spanEnd, (cluster + k - index) << unitsPerClusterBits);
          mapSteps.incrementAndGet();
          continue;
        }
        mapSteps.incrementAndGet();
        int kind = clusters.kindOf(entry, bitmap, cluster, (int) (u & 31));
        // with extended L2, qemu-img reports an unallocated subcluster of an allocated cluster (and no
        // backing file) with the host offset it would have: such units are reported, not a gap
        boolean hostedGap = kind == ClusterMap.UNALLOCATED && extendedL2 && backing == null && clusters.hasHost(entry);
        if (kind == ClusterMap.UNALLOCATED && !hostedGap) {
          gapFrom = gapFrom >= 0 ? gapFrom : Math.max(from, u << unitBits);
          u++;
          continue;
        }
        long start = Math.max(from, u << unitBits);
        long stop = Math.min(to, (u + 1) << unitBits);
        if (gapFrom >= 0) {
          fromBelow(out, gapFrom, start, depth);
          gapFrom = -1;
        }
        long clusterHost = entry & ClusterMap.OFFSET_MASK;
        long host = clusterHost + ((u & unitMask) << unitBits) + (start - (u << unitBits));
        MapEntry e;
        if (kind == ClusterMap.COMPRESSED) {
          e = new MapEntry(start, stop - start, depth, true, false, true, java.util.OptionalLong.empty());
        } else if (kind == ClusterMap.DATA && asksHoles()) {
          List<Holes.Run> runs = dataHoles != null ? dataHoles.runs(host, host + (stop - start))
              : file.runs(host, host + (stop - start), "data cluster of guest offset " + start + " at 0x" + Long.toHexString(host));
          for (Holes.Run r : runs) {
            appendMap(out, new MapEntry(start + (r.start() - host), r.end() - r.start(), depth, true, r.hole(), true,
                OptionalLong.of(r.start())));
          }
          u++;
          continue;
        } else if (kind == ClusterMap.DATA) {
          e = new MapEntry(start, stop - start, depth, true, false, true, java.util.OptionalLong.of(host));
        } else {
          e = new MapEntry(start, stop - start, depth, !hostedGap, true, false,
              clusterHost == 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(host));
        }
        appendMap(out, e);
        u++;
      }
    }
    if (gapFrom >= 0) {
      fromBelow(out, gapFrom, to, depth);
    }
  }

  /** The map of [from, to), which this image (at {@code depth}) leaves to its backing file (or to zeros). */
  private void fromBelow(List<MapEntry> out, long from, long to, int depth) throws IOException {
    long backed = backing == null ? from : Math.max(from, Math.min(to, backing.virtualSize()));
    if (backing instanceof Qcow2Image q) {
      if (backed > from) {
        q.allocationMap().map(from, backed, depth + 1, out);
      }
    } else if (backing instanceof RawImage raw && backed > from) { // its holes read as zeros, as QEMU asks them
      for (Extent x : raw.extents(from, backed)) {
        appendMap(out, new MapEntry(x.offset(), x.length(), depth + 1, true, x.zero(), !x.zero(), OptionalLong.of(x.offset())));
      }
    } else if (backing != null && backed > from) {
      appendMap(out, new MapEntry(from, backed - from, depth + 1, true, false, true, java.util.OptionalLong.of(from)));
    }
    if (backed < to) {
      appendMap(out, new MapEntry(backed, to - backed, depth, false, true, false, java.util.OptionalLong.empty()));
    }
  }

  /** Guest bytes the map of this layer was asked about so far. */
  long mapBytesAsked() {
    return mapBytesAsked.get();
  }

  /** Steps the map of this layer took so far: allocated units and runs of unallocated entries. */
  long mapSteps() {
    return mapSteps.get();
  }

  /** Appends a run, merged into the previous one when they touch, are of one kind and continue in the file. */
  static void appendMap(List<MapEntry> out, MapEntry e) {
    if (!out.isEmpty()) {
      MapEntry last = out.get(out.size() - 1);
      boolean sameKind = last.depth() == e.depth() && last.present() == e.present() && last.zero() == e.zero()
          && last.data() == e.data()
          && last.offset().isPresent() == e.offset().isPresent();
      boolean contiguous = sameKind
          && (last.offset().isEmpty() || last.offset().getAsLong() + last.length() == e.offset().getAsLong());
      if (sameKind && contiguous && last.start() + last.length() == e.start()) {
        out.set(out.size() - 1, new MapEntry(last.start(), last.length() + e.length(), e.depth(), e.present(), e.zero(),
            e.data(), last.offset()));
        return;
      }
    }
    out.add(e);
  }
}
