package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * No cycle between the engine's packages ({@code jdeps} on the compiled main classes): the disk
 * seam at the bottom, the readers above it, the opener above those, the backup and restore on top.
 */
class PackageCyclesTest {
  @Test
  void theEnginesPackagesHaveNoCycle() {
    PackageGraph g = PackageGraph.of(List.of(PackageGraph.classesOf(org.tidemark.backup.BackupRunner.class)));
    // the graph was read at all: edges every engine has
    assertTrue(g.uses("org.tidemark.backup").contains("org.tidemark.disk"), g::toString);
    assertTrue(g.uses("org.tidemark.qcow2").contains("org.tidemark.disk"), g::toString);
    assertEquals(List.of(), g.cycles(), () -> "package cycles; the graph:\n" + g);
  }

  @Test
  void theDiskSeamUsesNoOtherEnginePackageButInternal() {
    PackageGraph g = PackageGraph.of(List.of(PackageGraph.classesOf(org.tidemark.disk.DiskSource.class)));
    for (String p : g.uses("org.tidemark.disk")) {
      assertTrue(p.equals("org.tidemark.internal"), () -> "org.tidemark.disk uses " + p + "; the graph:\n" + g);
    }
  }

  @Test
  void aCycleIsFoundAndNamedWithTheClassesBehindIt() {
    PackageGraph g = new PackageGraph();
    g.addClassEdge("org.tidemark.a.A", "org.tidemark.b.B");
    g.addClassEdge("org.tidemark.b.B", "org.tidemark.c.C");
    g.addClassEdge("org.tidemark.c.C", "org.tidemark.a.A2");
    g.addClassEdge("org.tidemark.c.C", "org.tidemark.d.D");
    g.addClassEdge("org.tidemark.d.D", "org.tidemark.d.E");
    g.addClassEdge("org.tidemark.x.X", "org.tidemark.y.Y");
    g.addClassEdge("org.tidemark.y.Y", "org.tidemark.x.X");
    assertEquals(List.of(
        "org.tidemark.a -> org.tidemark.b -> org.tidemark.c -> org.tidemark.a (org.tidemark.a.A -> org.tidemark.b.B;"
            + " org.tidemark.b.B -> org.tidemark.c.C; org.tidemark.c.C -> org.tidemark.a.A2)",
        "org.tidemark.x -> org.tidemark.y -> org.tidemark.x (org.tidemark.x.X -> org.tidemark.y.Y;"
            + " org.tidemark.y.Y -> org.tidemark.x.X)"),
        g.cycles().stream().sorted().toList());
  }

  @Test
  void anAcyclicGraphHasNoCycle() {
    PackageGraph g = new PackageGraph();
    g.addClassEdge("org.tidemark.a.A", "org.tidemark.b.B");
    g.addClassEdge("org.tidemark.a.A", "org.tidemark.c.C");
    g.addClassEdge("org.tidemark.b.B", "org.tidemark.c.C");
    g.addClassEdge("org.tidemark.c.C", "org.tidemark.c.D");
    assertEquals(List.of(), g.cycles());
  }
}
