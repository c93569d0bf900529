package org.tidemark.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.backup.BackupResult;
import org.tidemark.disk.DiskSource;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;

/** Runs the library guide's example on the sample; the restored disk must equal the source. */
class LibraryExampleTest {
  @TempDir Path dir;

  @Test
  void theGuideWorksOnTheSample() throws Exception {
    Path sample = Path.of("..", "sample");
    Path image = sample.resolve("vda.qcow2");
    Checkpoint cp1 = LibraryExample.readCheckpoint(sample.resolve("checkpoints/cp1.xml"));
    Checkpoint cp2 = LibraryExample.readCheckpoint(sample.resolve("checkpoints/cp2.xml"));
    Path repo = dir.resolve("repo");
    BackupResult full = LibraryExample.backup(repo, cp1, Map.of(), image);
    BackupResult inc = LibraryExample.backup(repo, cp2, Map.of("cp1", cp1), image);
    assertTrue(inc.plan().isIncremental());
    assertEquals(0, LibraryExample.verify(full.archive()).size());
    assertEquals(0, LibraryExample.verify(inc.archive()).size());
    LibraryExample.restore(repo, "sample", dir.resolve("out"));
    try (DiskSource a = Images.open(image); DiskSource b = Images.open(dir.resolve("out/vda.raw"))) {
      assertEquals(-1, Images.firstDifference(a, b));
    }
  }
}
