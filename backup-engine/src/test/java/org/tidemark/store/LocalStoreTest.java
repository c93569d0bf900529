package org.tidemark.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on the default file system, and what is particular to it. */
class LocalStoreTest extends ArchiveStoreContract {
  @TempDir
  Path root;

  @Override
  protected ArchiveStore store() {
    return LocalStore.at(root);
  }

  @Test
  void aKilledWritersTemporaryFileIsNeverListedAndIsDiscardedAsAbandoned() throws IOException {
    Path dir = Files.createDirectories(root.resolve("vm1"));
    Path leftover = Files.write(dir.resolve(".cp1.tar.tmp-1234abcd"), new byte[100]);
    LocalStore s = LocalStore.at(root);
    assertEquals(List.of(), s.list("vm1/"));
    assertEquals(List.of(leftover), s.discardAbandoned("vm1/"));
    assertTrue(Files.notExists(leftover));
  }

  @Test
  void aFolderUnderAnArchiveNameIsListedButNotOpened() throws IOException {
    Files.createDirectories(root.resolve("vm1/cp.tar"));
    LocalStore s = LocalStore.at(root);
    assertEquals(List.of("vm1/cp.tar"), s.list("vm1/"));
    FileSystemException e = assertThrows(FileSystemException.class, () -> s.openInput("vm1/cp.tar"));
    assertTrue(e.getMessage().contains("is a directory, not a regular file"), e.getMessage());
  }

  @Test
  void committedFileIsAtItsPathWithTheFolderCreated() throws IOException {
    LocalStore s = LocalStore.at(root.resolve("new"));
    try (StoreOutput out = s.createOutput("vm1/cp.tar")) {
      out.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
      out.commit();
    }
    assertEquals(3, Files.size(root.resolve("new/vm1/cp.tar")));
    try (var files = Files.list(root.resolve("new/vm1"))) {
      assertEquals(List.of("cp.tar"), files.map(p -> p.getFileName().toString()).toList(), "no temporary file left");
    }
  }

  @Test
  void aReplacementIsANewFileRenamedOverTheOldOneAndAKilledOnesTemporaryFileIsAbandoned() throws IOException {
    LocalStore s = LocalStore.at(root);
    try (StoreOutput out = s.createOutput("vm1/cp.tar")) {
      out.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}));
      out.commit();
    }
    Path file = root.resolve("vm1/cp.tar");
    Object before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    try (StoreOutput out = s.replaceOutput("vm1/cp.tar")) {
      out.write(java.nio.ByteBuffer.wrap(new byte[] {4, 5}));
      out.commit();
    }
    assertEquals(2, Files.size(file));
    Object after = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    assertTrue(before != null && !before.equals(after), "renamed over, not rewritten in place: " + before + " " + after);
    // what a replacement killed mid-way leaves: its hidden temporary file beside the old archive
    Path leftover = Files.write(root.resolve("vm1/.cp.tar.tmp-0badc0de"), new byte[] {9});
    assertEquals(List.of("vm1/cp.tar"), s.list("vm1/"));
    assertEquals(List.of(leftover), s.discardAbandoned("vm1/"));
    assertEquals(2, Files.size(file));
  }
}
