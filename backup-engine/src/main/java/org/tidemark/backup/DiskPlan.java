package org.tidemark.backup;

import java.util.List;
import java.util.Objects;
import org.tidemark.archive.DiskDecision;

/**
 * What a backup does with one disk.
 *
 * @param disk the disk's target name ({@code vda})
 * @param decision full, incremental or skipped, and why
 * @param detail the specifics behind the decision (which bitmap, which checkpoint), for the report;
 *     empty when the decision says it all
 * @param bitmaps for an incremental disk, the bitmaps whose union is "changed since the base", oldest
 *     first; empty otherwise
 */
public record DiskPlan(String disk, DiskDecision decision, String detail, List<String> bitmaps) {
  /** Checks the fields and freezes the list. */
  public DiskPlan {
    Objects.requireNonNull(disk, "disk");
    Objects.requireNonNull(decision, "decision");
    Objects.requireNonNull(detail, "detail");
    bitmaps = List.copyOf(bitmaps);
    if ((decision == DiskDecision.INCREMENTAL) == bitmaps.isEmpty()) {
      throw new IllegalArgumentException("an incremental disk plan needs bitmaps, and only it: " + decision + " " + bitmaps);
    }
  }

  /** The one-line reason shown to the user: the decision's description and the detail. */
  public String reason() {
    return detail.isEmpty() ? decision.description() : decision.description() + ": " + detail;
  }
}
