package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tidemark.internal.PackageGraph;

/** No package cycle in the live backup's packages together with the engine's ({@code jdeps}). */
class LivePackageCyclesTest {
  @Test
  void theLiveAndEnginePackagesHaveNoCycle() {
    PackageGraph g = PackageGraph.of(List.of(PackageGraph.classesOf(LiveBackupRunner.class),
        PackageGraph.classesOf(org.tidemark.backup.BackupRunner.class)));
    assertTrue(g.uses("org.tidemark.nbd").contains("org.tidemark.disk"), g::toString); // the graph was read
    assertTrue(g.uses("org.tidemark.libvirt").contains("org.tidemark.nbd"), g::toString);
    assertEquals(List.of(), g.cycles(), () -> "package cycles; the graph:\n" + g);
  }
}
