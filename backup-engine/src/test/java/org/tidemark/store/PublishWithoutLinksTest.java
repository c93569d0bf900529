package org.tidemark.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publishing on the JDK's zip file system, which has no hard links ({@code createLink} throws
 * {@link UnsupportedOperationException}): the placeholder protocol, and the typed failure when the
 * atomic rename is missing too (simulated through the rename seam).
 */
class PublishWithoutLinksTest {
  @TempDir
  Path dir;
  private FileSystem zip;
  private Path folder;

  @BeforeEach
  void openZip() throws IOException {
    zip = FileSystems.newFileSystem(dir.resolve("z.zip"), Map.of("create", "true"));
    folder = Files.createDirectories(zip.getPath("/f"));
  }

  @AfterEach
  void closeZip() throws IOException {
    zip.close();
  }

  @Test
  void withoutLinksTheFileIsRenamedOverAnExclusivePlaceholder() throws IOException {
    Path target = folder.resolve("a.tar");
    Path temp = Files.write(Publish.tempFor(target), new byte[] {1, 2, 3});
    Publish.publish(temp, target, false);
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
    assertFalse(Files.exists(temp));
    assertFalse(Publish.isPending(temp));
  }

  @Test
  void withoutLinksAnExistingFileIsNeverReplaced() throws IOException {
    Path target = Files.write(folder.resolve("a.tar"), new byte[] {7});
    Path temp = Files.write(Publish.tempFor(target), new byte[] {1, 2, 3});
    assertThrows(FileAlreadyExistsException.class, () -> Publish.publish(temp, target, false));
    assertArrayEquals(new byte[] {7}, Files.readAllBytes(target));
    assertFalse(Files.exists(temp), "the temporary file is discarded");
  }

  @Test
  void withNeitherLinksNorAnAtomicRenameTheCommitFailsTypedAndLeavesNothing() throws IOException {
    Path target = folder.resolve("a.tar");
    Path temp = Files.write(Publish.tempFor(target), new byte[] {1, 2, 3});
    CommitUnsupportedException e = assertThrows(CommitUnsupportedException.class, () -> Publish.publishNew(temp,
        target, (from, to) -> {
          throw new AtomicMoveNotSupportedException(from.toString(), to.toString(), "simulated");
        }));
    assertEquals(target.toString(), e.getFile());
    assertTrue(e.getMessage().contains("has neither hard links") && e.getMessage().contains("nor an atomic rename"),
        e.getMessage());
    assertFalse(Files.exists(target), "the placeholder is removed");
    Publish.discard(temp);
  }
}
