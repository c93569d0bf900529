package org.tidemark.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;

/**
 * Prune on real backups ({@link RealHistory}: two disks, one added later, per-disk fallbacks, full
 * backups): after each of a shrinking series of prunes, every point left restores identical to
 * QEMU's copy of its disks ({@code qemu-img compare}) and every archive left verifies; a dry run
 * changes nothing.
 */
class PruneRestoresTest {
  @TempDir Path dir;

  private static List<String> files(Path folder) throws Exception {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void everyPointLeftRestoresIdenticalAfterEachPrune() throws Exception {
    RealHistory h = RealHistory.build(dir, 19, 14);
    assertTrue(h.perDiskFallbacks >= 1, "some backup copied one disk in full and the other incrementally");
    Repository repository = Repository.at(h.repo);
    Pruner pruner = new Pruner(repository);
    List<String> before = files(repository.domainDir("vm"));
    Pruner.Result dry = pruner.prune("vm", keepLast(1), new Pruner.Options(true, false, Duration.ZERO),
        Pruner.Listener.NONE);
    assertTrue(dry.dryRun() && dry.removed().isEmpty() && !dry.plan().removals().isEmpty(), dry.toString());
    assertEquals(before, files(repository.domainDir("vm")), "a dry run removes nothing");

    int removed = 0;
    int keptForAChain = 0;
    for (int keep : new int[] {10, 6, 3, 1}) {
      // newest by the repository's order: by creation second (one per backup here)
      List<String> order = h.present();
      List<StoredBackup> gone = new ArrayList<>();
      Pruner.Result r = pruner.prune("vm", keepLast(keep), new Pruner.Options(false, false, Duration.ZERO), gone::add);
      assertEquals(r.removed(), gone, "told of each removal");
      removed += gone.size();
      List<String> present = h.present();
      assertEquals(r.plan().kept().stream().map(StoredBackup::checkpoint).toList(), present);
      List<String> newest = order.subList(order.size() - keep, order.size());
      assertTrue(present.containsAll(newest), "keep-last " + keep + " keeps " + newest + ": " + present);
      keptForAChain += present.size() - keep;
      for (String p : present) {
        h.assertRestoresIdentical(p, dir);
      }
      for (StoredBackup b : repository.scan("vm").backups()) {
        assertEquals(List.of(), ArchiveVerifier.verify(b.path()), b.id());
      }
    }
    assertTrue(removed >= 8, removed + " archives removed");
    assertTrue(keptForAChain >= 1, "some point was kept only because a kept point's chain needs it");
  }

  private static RetentionPolicy keepLast(int n) {
    return RetentionPolicy.builder().keep(RetentionRule.LAST, n).build();
  }
}
