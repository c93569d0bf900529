package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.store.ArchiveStore;
import org.tidemark.store.LocalStore;
import org.tidemark.store.MemoryStore;
import org.tidemark.store.StoreInput;

/**
 * An archive written through each store of the seam and read back through it: the chunks equal
 * the guest data, the verifier's tar header check passes, GNU tar lists the entries of the bytes
 * the store holds, and a second archive of the same name is refused.
 */
class ArchiveThroughStoreTest {
  @TempDir
  Path dir;
  private FileSystem zip;

  private ArchiveStore store(String kind) throws IOException {
    return switch (kind) {
      case "local" -> LocalStore.at(dir.resolve("repo"));
      case "zip" -> {
        zip = FileSystems.newFileSystem(dir.resolve("repo.zip"), Map.of("create", "true"));
        yield LocalStore.at(zip.getPath("/repo"));
      }
      default -> new MemoryStore();
    };
  }

  @AfterEach
  void closeZip() throws IOException {
    if (zip != null) {
      zip.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "zip", "memory"})
  void anArchiveWrittenAndReadThroughTheStore(String kind) throws Exception {
    ArchiveStore store = store(kind);
    ArchiveFixtures.Disk a = new ArchiveFixtures.Disk("vda", 11, 9 << 20, 7);
    ArchiveFixtures.Disk b = ArchiveFixtures.Disk.dense("vdb", 12, 3 << 20);
    Manifest m = Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(),
        List.of(a.manifest(DiskManifest.FULL), b.manifest(DiskManifest.FULL)));
    String name = Repository.archiveName("vm1", "cp1");
    try (ArchiveWriter w = ArchiveWriter.create(store, name, ArchiveFixtures.CHECKPOINT, m)) {
      a.write(w, 1 << 20, Codec.ZSTD);
      b.write(w, 1 << 20, Codec.NONE);
      assertEquals(List.of(), store.list("vm1/"), "invisible before the commit");
      assertEquals(store.locate(name), w.commit());
    }
    assertEquals(List.of(name), store.list("vm1/"));
    try (ArchiveReader r = ArchiveReader.open(store, name)) {
      assertEquals("cp1", r.manifest().checkpoint());
      r.checkTarHeaders();
      for (ArchiveFixtures.Disk d : List.of(a, b)) {
        for (ChunkRecord c : r.chunks(d.name)) {
          byte[] got = new byte[c.rawLength()];
          r.readChunk(c, got);
          assertArrayEquals(java.util.Arrays.copyOfRange(d.guest, (int) c.offset(), (int) c.offset() + c.rawLength()),
              got, d.name + " at " + c.offset());
        }
      }
    }
    // GNU tar, on the bytes the store holds
    Path copy = dir.resolve("copy.tar");
    try (StoreInput in = store.openInput(name)) {
      ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(in.size()));
      while (all.hasRemaining()) {
        in.read(all, all.position());
      }
      Files.write(copy, all.array());
    }
    Process tar = new ProcessBuilder("tar", "tf", copy.toString()).redirectErrorStream(true).start();
    List<String> entries = new String(tar.getInputStream().readAllBytes()).lines().toList();
    assertEquals(0, tar.waitFor(), String.join("\n", entries));
    assertEquals(List.of("checkpoint.xml", "manifest.json"), entries.subList(0, 2));
    assertEquals(List.of("index.bin", "seal.json"), entries.subList(entries.size() - 2, entries.size()));
    assertThrows(FileAlreadyExistsException.class, () -> ArchiveWriter.create(store, name, ArchiveFixtures.CHECKPOINT, m));
  }
}
