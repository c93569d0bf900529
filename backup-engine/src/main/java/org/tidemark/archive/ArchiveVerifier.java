package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.internal.Workers;
import org.tidemark.store.StoreInput;

/**
 * Checks an archive completely: its structure and seal, the consistency of its manifest and index
 * ({@link ArchiveConsistency}, the same rules a restore applies before writing: extents sorted,
 * disjoint, inside the disk, a full disk covered from 0 to its size, the chunks of each disk
 * tiling its data extents exactly, a parent named exactly when a disk is incremental), every
 * chunk's tar header, and every chunk's data against its CRC-32C. Reports every problem found,
 * not only the first. The links between archives of a chain are checked by {@link
 * Repository#chain}. Stateless and thread-safe.
 */
public final class ArchiveVerifier {
  private ArchiveVerifier() {}

  /**
   * Verifies one archive.
   *
   * @return the problems found; empty when the archive is sound
   * @throws IOException only when the file cannot be read at all (missing, permission)
   */
  public static List<Finding> verify(Path archive) throws IOException {
    return verify(org.tidemark.store.LocalStore.openFile(archive));
  }

  /**
   * Verifies the archive open as {@code input} (a committed object of a store, or a pending one
   * read back before its commit: {@link ArchiveWriter#openFinished}), and closes it.
   *
   * @return the problems found; empty when the archive is sound
   * @throws IOException only when the input cannot be read at all
   */
  public static List<Finding> verify(StoreInput input) throws IOException {
    Path archive = input.path();
    List<Finding> findings = new ArrayList<>();
    try (ArchiveReader r = ArchiveReader.open(input)) {
      try {
        r.checkTarHeaders();
      } catch (ArchiveCorruptException e) {
        findings.add(Finding.of(e));
      }
      findings.addAll(ArchiveConsistency.check(r));
      checkChunks(archive, r, findings);
    } catch (ArchiveException e) {
      findings.add(Finding.of(e));
    }
    return findings;
  }

  /**
   * Reads and checks every chunk on the {@link Workers} (each with its own direct buffer), and
   * adds a finding for each corrupt one, in archive order.
   */
  private static void checkChunks(Path archive, ArchiveReader r, List<Finding> findings) throws IOException {
    int bufferSize = r.chunks().stream().mapToInt(ChunkRecord::rawLength).max().orElse(0);
    ExecutorService pool = Workers.pool("tidemark-verify", Workers.count(r.chunks().size()));
    ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(bufferSize));
    try {
      List<Future<Finding>> checks = new ArrayList<>(r.chunks().size());
      for (ChunkRecord c : r.chunks()) {
        checks.add(pool.submit(() -> {
          try {
            r.readChunk(c, buffers.get().clear());
            return null;
          } catch (ArchiveCorruptException e) {
            return Finding.at(archive, c.disk(), c.offset(), Finding.of(e).problem());
          }
        }));
      }
      for (Future<Finding> check : checks) {
        Finding f = Workers.await(check, "verify", "checking a chunk of " + archive + " failed");
        if (f != null) {
          findings.add(f);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
