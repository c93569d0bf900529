package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.RepositoryFixtures;

/**
 * {@code list}, {@code verify} and {@code restore} on repositories of many archives and with
 * files that are not archives: the work they do (archives opened, counted, not timed) and that
 * they finish.
 */
class RepositoryCommandsTest {
  @TempDir Path dir;

  @Test
  void verifyReadsEachArchiveOfAChainOnceForAllChains() throws Exception {
    // one chain of 200: resolving each backup's chain by reading the folder again opened 200 + 200 * 200
    int n = 200;
    Path repo = dir.resolve("repo");
    RepositoryFixtures.chain(repo, "vm1", n);
    long before = RepositoryFixtures.opens();
    Cli.Result r = Cli.run("verify", "--repo", repo.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("verified " + n + " archive(s): all sound"), r.toString());
    assertEquals(n, RepositoryFixtures.opens() - before, "archives the repository opened");

    before = RepositoryFixtures.opens();
    r = Cli.run("verify", "--repo", repo.toString(), "--domain", "vm1", "--checkpoint", "cp00150");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("verified 151 archive(s): all sound"), r.toString());
    assertEquals(n, RepositoryFixtures.opens() - before, "archives the repository opened");
  }
}
