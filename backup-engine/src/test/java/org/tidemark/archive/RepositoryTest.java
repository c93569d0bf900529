package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding the backup of a checkpoint: by its file name first, and by reading the whole folder when
 * that file is missing, unreadable or saves another checkpoint.
 */
class RepositoryTest {
  @TempDir Path root;

  private Path archive(String file, String checkpoint) throws IOException {
    Path dir = Files.createDirectories(root.resolve("vm1"));
    Manifest m = Manifest.of("test", "vm1", checkpoint, 1700000000L, Optional.empty(), List.of());
    try (ArchiveWriter w = ArchiveWriter.create(dir.resolve(file), ArchiveFixtures.CHECKPOINT, m)) {
      return w.commit();
    }
  }

  private Optional<String> found(String checkpoint) throws IOException {
    return Repository.at(root).backupOf("vm1", checkpoint).map(b -> b.path().getFileName().toString());
  }

  @Test
  void theArchiveNamedAfterTheCheckpoint() throws Exception {
    archive("cp1.tar", "cp1");
    archive("cp2.tar", "cp2");
    assertEquals(Optional.of("cp1.tar"), found("cp1"));
    assertEquals(Optional.of("cp2.tar"), found("cp2"));
    assertEquals(Optional.empty(), found("cp3"));
  }

  @Test
  void aRenamedArchiveIsFoundByReadingTheFolder() throws Exception {
    archive("monday.tar", "cp1");
    assertEquals(Optional.of("monday.tar"), found("cp1"));
  }

  @Test
  void aFileNamedAfterAnotherCheckpointIsNotTakenForIt() throws Exception {
    archive("cp2.tar", "cp1");
    assertEquals(Optional.empty(), found("cp2"));
    assertEquals(Optional.of("cp2.tar"), found("cp1"));
  }

  @Test
  void anUnreadableArchiveOfTheNameGivesWayToAReadableCopy() throws Exception {
    Path cut = archive("cp1.tar", "cp1");
    archive("copy.tar", "cp1");
    try (FileChannel c = FileChannel.open(cut, StandardOpenOption.WRITE)) {
      c.truncate(c.size() - 1024);
    }
    assertEquals(Optional.of("copy.tar"), found("cp1"));
    assertTrue(Repository.at(root).scan("vm1").unreadable().stream()
        .anyMatch(f -> f.archive().getFileName().toString().equals("cp1.tar")));
    Files.delete(root.resolve("vm1/copy.tar"));
    assertEquals(Optional.empty(), found("cp1"));
  }

  @Test
  @org.junit.jupiter.api.Timeout(value = 60, unit = java.util.concurrent.TimeUnit.SECONDS,
      threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open ignores interrupts
  void archiveNamesThatAreNotRegularFilesAreReportedUnopened() throws Exception {
    archive("cp1.tar", "cp1");
    Path dir = root.resolve("vm1");
    Path fifo = dir.resolve("cp2.tar");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertEquals(0, mkfifo.waitFor());
    Files.createDirectory(dir.resolve("cp3.tar"));
    Files.createSymbolicLink(dir.resolve("cp4.tar"), Path.of("/dev/zero"));
    try {
      Repository.Scan scan = Repository.at(root).scan("vm1");
      assertEquals(List.of("cp1.tar"), scan.backups().stream().map(StoredBackup::id).toList());
      assertEquals(List.of("cp2.tar: is a FIFO", "cp3.tar: is a directory", "cp4.tar: is a character device"),
          scan.unreadable().stream().map(f -> f.archive().getFileName() + ": " + f.problem().split(",")[0]).toList());
      scan.unreadable().forEach(f -> assertTrue(f.problem().endsWith(
          ", not a regular file (not opened: reading it could block or never end)"), f.problem()));
      assertEquals(Optional.empty(), found("cp2"));
      assertEquals(Optional.of("cp1.tar"), found("cp1"));
    } finally { // wakes an open blocked on the FIFO, if any (a read-write open of a FIFO never blocks)
      FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
    }
  }
}
