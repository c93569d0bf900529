package org.tidemark.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tidemark.archive.Finding;

/**
 * A {@link Finding} as a JSON object, the same in every command's document ({@code verify}'s
 * problems, {@code list}'s and {@code prune}'s unreadable archives): the archive file, the disk and
 * guest offset, the tar entry and the byte offset in the archive file (null where unknown), and the
 * problem in words. Taken from the finding's fields, never parsed back out of its text.
 */
final class FindingJson {
  private FindingJson() {}

  /** One finding as an object: archive, disk, offset, entry, fileOffset, problem. */
  static Map<String, Object> of(Finding f) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("archive", f.archive().toString());
    p.put("disk", f.disk().orElse(null));
    p.put("offset", f.offset().isPresent() ? f.offset().getAsLong() : null);
    p.put("entry", f.entry().orElse(null));
    p.put("fileOffset", f.fileOffset().isPresent() ? f.fileOffset().getAsLong() : null);
    p.put("problem", f.problem());
    return p;
  }

  /** Each finding as an object, in order. */
  static List<Map<String, Object>> of(List<Finding> findings) {
    return findings.stream().map(FindingJson::of).toList();
  }
}
