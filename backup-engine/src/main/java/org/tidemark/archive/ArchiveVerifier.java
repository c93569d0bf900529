package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.CancelledException;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
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
    return verify(archive, EngineOptions.defaults(), Progress.NONE, Cancellation.none());
  }

  /**
   * Verifies one archive with the workers of {@code options}, telling {@code progress} of the
   * archive ({@link Progress#item}, its chunks' guest bytes) and of each chunk checked ({@link
   * Progress#advance}), unless {@code cancellation} is cancelled first (checked between chunks).
   * The caller starts and finishes {@code progress}.
   *
   * @return the problems found; empty when the archive is sound
   * @throws CancelledException when cancelled
   * @throws IOException only when the file cannot be read at all (missing, permission)
   */
  public static List<Finding> verify(Path archive, EngineOptions options, Progress progress, Cancellation cancellation)
      throws IOException {
    return verify(org.tidemark.store.LocalStore.openFile(archive), options, progress, cancellation);
  }

  /**
   * Verifies the archive open as {@code input} (a committed object of a store, or a pending one
   * read back before its commit: {@link ArchiveWriter#openFinished}), and closes it.
   *
   * @return the problems found; empty when the archive is sound
   * @throws IOException only when the input cannot be read at all
   */
  public static List<Finding> verify(StoreInput input) throws IOException {
    return verify(input, EngineOptions.defaults(), Progress.NONE, Cancellation.none());
  }

  /**
   * Verifies the archive open as {@code input} as {@link #verify(Path, EngineOptions, Progress,
   * Cancellation)} does, and closes it.
   *
   * @throws CancelledException when cancelled
   * @throws IOException only when the input cannot be read at all
   */
  public static List<Finding> verify(StoreInput input, EngineOptions options, Progress progress,
      Cancellation cancellation) throws IOException {
    return verify(input, new Run(options, progress, cancellation));
  }

  /**
   * Checks the structure of the archive open as {@code input}, as {@link #verify(StoreInput)} does,
   * without reading the chunks' data (a few reads at its ends and one per chunk's tar header),
   * and closes it: the seal and the hash of the metadata, the manifest, the index, the chunks
   * tiling the file, each chunk's tar header, and the consistency of manifest and index.
   *
   * @return the problems found; empty when the structure is sound
   * @throws IOException only when the input cannot be read at all
   */
  public static List<Finding> verifyStructure(StoreInput input) throws IOException {
    return verify(input, null);
  }

  /** Verifies the archive, its chunks' data too unless {@code run} is null. */
  private static List<Finding> verify(StoreInput input, Run run) throws IOException {
    Path archive = input.path();
    List<Finding> findings = new ArrayList<>();
    try (ArchiveReader r = ArchiveReader.open(input)) {
      if (run != null) {
        run.progress().item(archive.getFileName().toString(),
            r.chunks().stream().mapToLong(ChunkRecord::rawLength).sum());
      }
      try {
        r.checkTarHeaders();
      } catch (ArchiveCorruptException e) {
        findings.add(Finding.of(e));
      }
      findings.addAll(ArchiveConsistency.check(r));
      if (run != null) {
        checkChunks(archive, r, findings, run);
      }
    } catch (ArchiveException e) {
      findings.add(Finding.of(e));
    }
    return findings;
  }

  /**
   * Reads and checks every chunk on the {@link Workers} (each with its own direct buffer), and
   * adds a finding for each corrupt one, in archive order.
   */
  private static void checkChunks(Path archive, ArchiveReader r, List<Finding> findings, Run run) throws IOException {
    int bufferSize = r.chunks().stream().mapToInt(ChunkRecord::rawLength).max().orElse(0);
    String operation = "verify of " + archive;
    Workers.Pool pool = Workers.pool("tidemark-verify", Workers.count(run.options().workers(), r.chunks().size()),
        run.options().executor());
    ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(bufferSize));
    try {
      List<Future<Finding>> checks = new ArrayList<>(r.chunks().size());
      for (ChunkRecord c : r.chunks()) {
        checks.add(pool.submit(() -> {
          try {
            r.readChunk(c, buffers.get().clear());
            return null;
          } catch (ArchiveCorruptException e) {
            return Finding.of(e); // names the chunk's disk and guest offset
          }
        }));
      }
      for (int i = 0; i < checks.size(); i++) {
        run.cancellation().check(operation);
        Finding f = Workers.await(checks.get(i), "verify", "checking a chunk of " + archive + " failed");
        run.progress().advance(r.chunks().get(i).rawLength());
        if (f != null) {
          findings.add(f);
        }
      }
    } finally {
      pool.close();
    }
  }

  /** The options, progress and cancellation of one verify. */
  private record Run(EngineOptions options, Progress progress, Cancellation cancellation) {}
}
