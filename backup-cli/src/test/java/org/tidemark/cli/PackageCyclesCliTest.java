package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.tidemark.internal.PackageGraph;

/**
 * No package cycle among all of Tidemark's main classes together ({@code jdeps} on the model, XML,
 * engine, live and CLI classes).
 */
class PackageCyclesCliTest {
  @Test
  void tidemarksPackagesHaveNoCycle() {
    PackageGraph g = PackageGraph.of(List.of(
        PackageGraph.classesOf(Main.class),
        PackageGraph.classesOf(org.tidemark.libvirt.LiveBackupRunner.class),
        PackageGraph.classesOf(org.tidemark.backup.BackupRunner.class),
        PackageGraph.classesOf(org.tidemark.xml.CheckpointXml.class),
        PackageGraph.classesOf(org.tidemark.model.Checkpoint.class)));
    assertTrue(g.uses("org.tidemark.cli").contains("org.tidemark.restore"), g::toString); // the graph was read
    assertTrue(g.uses("org.tidemark.xml").contains("org.tidemark.model"), g::toString);
    assertEquals(List.of(), g.cycles(), () -> "package cycles; the graph:\n" + g);
  }
}
