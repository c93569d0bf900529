package org.tidemark.retention;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryFixtures;
import org.tidemark.archive.StoredBackup;

/**
 * Repositories of tiny archives (no guest data: every extent zeros) with a seeded history of
 * points days apart, per-disk fallbacks, an added and a removed disk and branches ({@link History}),
 * for the tests of prune through the command (in the engine's test jar).
 */
public final class PruneFixtures {
  private PruneFixtures() {}

  /**
   * Writes the history of {@code seed} with {@code n} points into {@code root/domain}.
   *
   * @return the archives, oldest first
   */
  public static List<Path> history(Path root, String domain, long seed, int n) throws IOException {
    Path dir = Files.createDirectories(root.resolve(Repository.fileName(domain)));
    List<Path> out = new ArrayList<>();
    for (StoredBackup b : new History(domain, seed, n).backups) {
      try (ArchiveWriter w = ArchiveWriter.create(dir.resolve(b.id()),
          RepositoryFixtures.checkpoint(domain, b.checkpoint()), b.manifest())) {
        out.add(w.commit());
      }
    }
    return out;
  }

  /** The plan the library makes for the domain as it is now (what the command must carry out). */
  public static PrunePlan plan(Path root, String domain, RetentionPolicy policy) throws IOException {
    return PrunePlanner.plan(domain, Repository.at(root).chains(domain), policy);
  }
}
