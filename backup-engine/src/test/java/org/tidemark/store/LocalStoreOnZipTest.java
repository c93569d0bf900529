package org.tidemark.store;

import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store contract on the JDK's zip file system, which has no hard links: commit goes through
 * the exclusive placeholder and the atomic rename. Before the seam, a commit there failed with an
 * unchecked {@link UnsupportedOperationException} after all data was written.
 */
class LocalStoreOnZipTest extends ArchiveStoreContract {
  @TempDir
  Path dir;
  private FileSystem zip;

  @Override
  protected ArchiveStore store() throws IOException {
    zip = FileSystems.newFileSystem(dir.resolve("repo.zip"), Map.of("create", "true"));
    return LocalStore.at(zip.getPath("/repo"));
  }

  @AfterEach
  void closeZip() throws IOException {
    if (zip != null) {
      zip.close();
    }
  }
}
