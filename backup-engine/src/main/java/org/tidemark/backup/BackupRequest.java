package org.tidemark.backup;

import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.disk.DiskSource;
import org.tidemark.model.Checkpoint;

/**
 * What to back up and how.
 *
 * @param checkpoint the checkpoint Y the backup saves, with its domain
 * @param checkpointXml Y formatted with its domain, stored as the archive's first entry
 * @param knownCheckpoints the domain's other checkpoints by name (to walk from Y to its ancestors)
 * @param disks opens a disk image by disk target name
 * @param excluded disks not to back up
 * @param forceFull copy every disk in full
 * @param codec how chunks are compressed
 * @param chunkSize guest bytes per chunk, at most {@link ArchiveWriter#MAX_CHUNK}
 * @param toolVersion written into the manifest
 */
public record BackupRequest(
    Checkpoint checkpoint,
    byte[] checkpointXml,
    Map<String, Checkpoint> knownCheckpoints,
    DiskOpener disks,
    Set<String> excluded,
    boolean forceFull,
    Codec codec,
    int chunkSize,
    String toolVersion) {

  /** Opens a disk image by its target name. */
  @FunctionalInterface
  public interface DiskOpener {
    /**
     * Opens the image of {@code disk} read-only.
     *
     * @throws IOException when it cannot be opened
     */
    DiskSource open(String disk) throws IOException;
  }

  /** Checks the fields. */
  public BackupRequest {
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(checkpointXml, "checkpointXml");
    knownCheckpoints = Map.copyOf(knownCheckpoints);
    Objects.requireNonNull(disks, "disks");
    excluded = Set.copyOf(excluded);
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(toolVersion, "toolVersion");
    if (chunkSize <= 0 || chunkSize > ArchiveWriter.MAX_CHUNK || chunkSize % 512 != 0) {
      throw new IllegalArgumentException("chunk size: " + chunkSize + " (expected a multiple of 512 up to "
          + ArchiveWriter.MAX_CHUNK + ")");
    }
    if (checkpoint.domain().isEmpty()) {
      throw new IllegalArgumentException("checkpoint '" + checkpoint.name() + "' has no <domain>: a backup needs it");
    }
  }
}
