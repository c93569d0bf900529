package org.tidemark.archive;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.internal.Workers;

/**
 * Checks an archive completely: its structure and seal, the consistency of its manifest (extents
 * sorted, disjoint, inside the disk; a full disk covered from 0 to its size), that the chunks of
 * each disk tile its data extents exactly, and every chunk's data against its CRC-32C. Reports
 * every problem found, not only the first. Stateless and thread-safe.
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
    List<Finding> findings = new ArrayList<>();
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      try {
        r.checkTarHeaders();
      } catch (ArchiveCorruptException e) {
        findings.add(Finding.of(e));
      }
      for (DiskManifest d : r.manifest().disks()) {
        checkExtents(archive, d, findings);
        checkChunkTiling(archive, d, r.chunks(d.name()), findings);
      }
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

  /** Extents sorted, disjoint and inside the disk; a full disk covered entirely. */
  static void checkExtents(Path archive, DiskManifest d, List<Finding> findings) {
    long pos = 0;
    for (ExtentRecord e : d.extents()) {
      if (e.offset() < pos) {
        findings.add(Finding.at(archive, d.name(), e.offset(), "extent overlaps or is out of order (previous ends at " + pos + ")"));
      } else if (d.isFull() && e.offset() != pos) {
        findings.add(Finding.at(archive, d.name(), pos, "full backup leaves guest bytes [" + pos + ", " + e.offset() + ") uncovered"));
      }
      if (e.end() > d.virtualSize()) {
        findings.add(Finding.at(archive, d.name(), e.offset(), "extent ends at " + e.end() + ", past the virtual size " + d.virtualSize()));
      }
      pos = Math.max(pos, e.end());
    }
    if (d.isFull() && pos < d.virtualSize()) {
      findings.add(Finding.at(archive, d.name(), pos, "full backup leaves guest bytes [" + pos + ", " + d.virtualSize() + ") uncovered"));
    }
  }

  /** The disk's chunks, in order, cover its data extents exactly. */
  static void checkChunkTiling(Path archive, DiskManifest d, List<ChunkRecord> chunks, List<Finding> findings) {
    int i = 0;
    for (ExtentRecord e : d.extents()) {
      if (e.zero()) {
        continue;
      }
      long pos = e.offset();
      while (pos < e.end() && i < chunks.size() && chunks.get(i).offset() == pos && chunks.get(i).end() <= e.end()) {
        pos = chunks.get(i).end();
        i++;
      }
      if (pos < e.end()) {
        findings.add(Finding.at(archive, d.name(), pos, "no chunk holds the data extent's bytes from here to " + e.end()));
        while (i < chunks.size() && chunks.get(i).offset() < e.end()) {
          i++;
        }
      }
    }
    for (; i < chunks.size(); i++) {
      findings.add(Finding.at(archive, d.name(), chunks.get(i).offset(), "chunk lies outside the disk's data extents"));
    }
  }
}
