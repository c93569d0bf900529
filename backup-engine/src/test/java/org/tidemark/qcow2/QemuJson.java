package org.tidemark.qcow2;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.disk.Extent;

/**
 * Reading the JSON QEMU's tools print, for comparisons with Tidemark's reader and command line:
 * {@code qemu-img map --output=json} runs and {@code nbdinfo --json --map} dirty ranges.
 */
public final class QemuJson {
  private QemuJson() {}

  /** One run of {@code qemu-img map --output=json}; {@code offset} is -1 where the run has none. */
  public record Run(long start, long length, int depth, boolean present, boolean zero, boolean data, long offset) {}

  /**
   * The runs of a {@code qemu-img map --output=json} document (QEMU's or Tidemark's), merged where
   * they touch, are of one kind and continue in the file. Where qemu-img asks the file system
   * (SEEK_HOLE) about the host ranges of data clusters, it says zero: true for a hole; those holes
   * belong to the file as it lies on a file system, not to the image (a copy of the corpus can have
   * others than the file had when QEMU's JSON was written), so data runs are taken with zero: false
   * on both sides here; the zero flag of data runs is compared live, against qemu-img on the same
   * file, by Qcow2ImageQemuTest and Qcow2HolesQemuTest (docs/qcow2.md).
   */
  public static List<Run> mapRuns(JsonNode map) {
    List<Run> out = new ArrayList<>();
    for (JsonNode e : map) {
      boolean data = e.get("data").asBoolean();
      add(out, new Run(e.get("start").asLong(), e.get("length").asLong(), e.get("depth").asInt(),
          e.get("present").asBoolean(), e.get("zero").asBoolean() && !data, data,
          e.has("offset") ? e.get("offset").asLong() : -1));
    }
    return out;
  }

  /** The reader's map as runs. */
  public static List<Run> mapRuns(Qcow2Image q) throws java.io.IOException {
    List<Run> out = new ArrayList<>();
    for (Qcow2Image.MapEntry e : q.mapEntries()) {
      add(out, new Run(e.start(), e.length(), e.depth(), e.present(), e.zero() && !e.data(), e.data(),
          e.offset().orElse(-1)));
    }
    return out;
  }

  /** Appends a run, merging it into the previous one when they touch, are of one kind and continue in the file. */
  public static void add(List<Run> out, Run r) {
    if (!out.isEmpty()) {
      Run last = out.get(out.size() - 1);
      boolean same = last.depth() == r.depth() && last.present() == r.present() && last.zero() == r.zero()
          && last.data() == r.data() && (last.offset() < 0) == (r.offset() < 0)
          && (last.offset() < 0 || last.offset() + last.length() == r.offset());
      if (same && last.start() + last.length() == r.start()) {
        out.set(out.size() - 1, new Run(last.start(), last.length() + r.length(), r.depth(), r.present(), r.zero(),
            r.data(), last.offset()));
        return;
      }
    }
    out.add(r);
  }

  /** The dirty (type 1) ranges of an {@code nbdinfo --json --map} document, merged. */
  public static List<Extent> dirty(JsonNode nbdinfoMap) {
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : nbdinfoMap) {
      if (e.get("type").asInt() == 1) {
        Qemu.add(out, new Extent(e.get("offset").asLong(), e.get("length").asLong(), false));
      }
    }
    return out;
  }

  /** Extents merged where they touch. */
  public static List<Extent> merged(List<Extent> extents) {
    List<Extent> out = new ArrayList<>();
    extents.forEach(e -> Qemu.add(out, e));
    return out;
  }
}
