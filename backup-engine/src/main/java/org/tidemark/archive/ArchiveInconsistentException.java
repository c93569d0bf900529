package org.tidemark.archive;

import java.nio.file.Path;
import java.util.List;

/**
 * An archive (or the chain it belongs to) contradicts itself: its metadata opens and its seal
 * matches, but {@link ArchiveConsistency} finds rules broken, so a restore from it would write
 * wrong bytes. The message names the archive and, per finding, the disk and guest offset; {@link
 * #findings()} holds them all.
 */
public class ArchiveInconsistentException extends ArchiveCorruptException {
  /** How many findings the message spells out; the rest are counted. */
  static final int SHOWN = 3;
  private final transient List<Finding> findings;

  /**
   * The findings about {@code archive} (the first archive of a chain with any).
   *
   * @throws IllegalArgumentException when {@code findings} is empty
   */
  public ArchiveInconsistentException(Path archive, List<Finding> findings) {
    super(archive, describe(archive, findings));
    this.findings = List.copyOf(findings);
  }

  /** Every problem found, each with its archive, disk and guest offset where known. */
  public List<Finding> findings() {
    return findings;
  }

  /**
   * Throws when {@code findings} is not empty, naming the archive of the first one.
   *
   * @throws ArchiveInconsistentException when there is any finding
   */
  public static void throwIfAny(List<Finding> findings) throws ArchiveInconsistentException {
    if (!findings.isEmpty()) {
      throw new ArchiveInconsistentException(findings.get(0).archive(), findings);
    }
  }

  private static String describe(Path archive, List<Finding> findings) {
    if (findings.isEmpty()) {
      throw new IllegalArgumentException("no findings");
    }
    StringBuilder b = new StringBuilder("inconsistent metadata: ");
    for (int i = 0; i < Math.min(SHOWN, findings.size()); i++) {
      Finding f = findings.get(i);
      b.append(i == 0 ? "" : "; ");
      if (!f.archive().equals(archive)) {
        b.append(f.archive().getFileName()).append(": ");
      }
      f.disk().ifPresent(d -> b.append("disk ").append(d));
      if (f.offset().isPresent()) {
        b.append(" at guest offset ").append(f.offset().getAsLong());
      }
      b.append(f.disk().isPresent() ? ": " : "").append(f.problem());
    }
    if (findings.size() > SHOWN) {
      b.append(" (and ").append(findings.size() - SHOWN).append(" more problems; a verify of the archive lists them all)");
    }
    return b.toString();
  }
}
