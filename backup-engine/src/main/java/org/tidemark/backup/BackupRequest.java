package org.tidemark.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.disk.DiskSource;
import org.tidemark.model.Checkpoint;
import org.tidemark.xml.CheckpointXml;

/**
 * What to back up and how; built by {@link #builder(Checkpoint, DiskOpener)}, which gives every
 * setting but the checkpoint and the disks a default.
 *
 * <p>The checkpoint is given once, as the model: the engine formats it ({@link
 * CheckpointXml#format(Checkpoint)}) into the archive's first entry. Immutable and thread-safe.
 */
public final class BackupRequest {
  /** Guest bytes per chunk unless {@link Builder#chunkSize} says otherwise: 4 MiB. */
  public static final int DEFAULT_CHUNK = ArchiveWriter.DEFAULT_CHUNK;
  /** The codec unless {@link Builder#codec} says otherwise. */
  public static final Codec DEFAULT_CODEC = Codec.ZSTD;

  /** How the disks are copied. */
  public enum CopyMode {
    /** Per disk, only what changed since the newest ancestor the repository holds, where the bitmaps allow. */
    INCREMENTAL_WHERE_POSSIBLE,
    /** Every disk in full, whatever the repository holds. */
    FULL
  }

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

  private final Checkpoint checkpoint;
  private final Map<String, Checkpoint> knownCheckpoints;
  private final DiskOpener disks;
  private final Set<String> excluded;
  private final CopyMode copyMode;
  private final Codec codec;
  private final int chunkSize;
  private final String toolVersion;
  private final byte[] storedXml;

  private BackupRequest(Builder b) {
    this.checkpoint = b.checkpoint;
    this.knownCheckpoints = Map.copyOf(b.knownCheckpoints);
    this.disks = b.disks;
    this.excluded = Set.copyOf(b.excluded);
    this.copyMode = b.copyMode;
    this.codec = b.codec;
    this.chunkSize = b.chunkSize;
    this.toolVersion = b.toolVersion;
    this.storedXml = b.storedXml;
  }

  /**
   * A builder backing up {@code checkpoint} (with its {@code <domain>}), reading each disk through
   * {@code disks}. Defaults: no other checkpoints known, no disk excluded, {@link
   * CopyMode#INCREMENTAL_WHERE_POSSIBLE}, {@link #DEFAULT_CODEC}, {@link #DEFAULT_CHUNK}, the
   * engine's version as tool version.
   *
   * @throws IllegalArgumentException when the checkpoint has no {@code <domain>}: a backup needs it
   */
  public static Builder builder(Checkpoint checkpoint, DiskOpener disks) {
    return new Builder(checkpoint, disks);
  }

  /** The checkpoint Y the backup saves, with its domain. */
  public Checkpoint checkpoint() {
    return checkpoint;
  }

  /** Y formatted with its domain, as the archive stores it: {@link CheckpointXml#format(Checkpoint)}. */
  byte[] checkpointXml() {
    return storedXml != null ? storedXml.clone() : CheckpointXml.format(checkpoint).getBytes(StandardCharsets.UTF_8);
  }

  /** The domain's other checkpoints by name (to walk from Y to its ancestors). */
  public Map<String, Checkpoint> knownCheckpoints() {
    return knownCheckpoints;
  }

  /** Opens a disk image by disk target name. */
  public DiskOpener disks() {
    return disks;
  }

  /** The disks not to back up. */
  public Set<String> excluded() {
    return excluded;
  }

  /** How the disks are copied. */
  public CopyMode copyMode() {
    return copyMode;
  }

  /** How chunks are compressed. */
  public Codec codec() {
    return codec;
  }

  /** Guest bytes per chunk, a multiple of 512 up to {@link ArchiveWriter#MAX_CHUNK}. */
  public int chunkSize() {
    return chunkSize;
  }

  /** Written into the manifest as the tool that made the archive. */
  public String toolVersion() {
    return toolVersion;
  }

  /** The engine's version (the jar's {@code Implementation-Version}), or {@code unknown}. */
  static String engineVersion() {
    return Optional.ofNullable(BackupRequest.class.getPackage().getImplementationVersion()).orElse("unknown");
  }

  /** Builds a {@link BackupRequest}; not thread-safe. */
  public static final class Builder {
    private final Checkpoint checkpoint;
    private final DiskOpener disks;
    private final Map<String, Checkpoint> knownCheckpoints = new LinkedHashMap<>();
    private final Set<String> excluded = new LinkedHashSet<>();
    private CopyMode copyMode = CopyMode.INCREMENTAL_WHERE_POSSIBLE;
    private Codec codec = DEFAULT_CODEC;
    private int chunkSize = DEFAULT_CHUNK;
    private String toolVersion = engineVersion();
    private byte[] storedXml;

    private Builder(Checkpoint checkpoint, DiskOpener disks) {
      this.checkpoint = Objects.requireNonNull(checkpoint, "checkpoint");
      this.disks = Objects.requireNonNull(disks, "disks");
      if (checkpoint.domain().isEmpty()) {
        throw new IllegalArgumentException("checkpoint '" + checkpoint.name() + "' has no <domain>: a backup needs it");
      }
    }

    /** The domain's other checkpoints (by their names), so that Y's ancestors can be found. */
    public Builder knownCheckpoints(Map<String, Checkpoint> known) {
      knownCheckpoints.putAll(known);
      return this;
    }

    /** The domain's other checkpoints, so that Y's ancestors can be found. */
    public Builder knownCheckpoints(Collection<Checkpoint> known) {
      known.forEach(c -> knownCheckpoints.put(c.name(), c));
      return this;
    }

    /** Leaves the disks named (target names) out of the backup. */
    public Builder exclude(Collection<String> disks) {
      excluded.addAll(disks);
      return this;
    }

    /** Leaves the disks named (target names) out of the backup. */
    public Builder exclude(String... disks) {
      return exclude(java.util.List.of(disks));
    }

    /** How the disks are copied (default {@link CopyMode#INCREMENTAL_WHERE_POSSIBLE}). */
    public Builder copyMode(CopyMode mode) {
      this.copyMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** Copies every disk in full: {@code copyMode(CopyMode.FULL)}. */
    public Builder fullCopy() {
      return copyMode(CopyMode.FULL);
    }

    /** How chunks are compressed (default {@link #DEFAULT_CODEC}). */
    public Builder codec(Codec codec) {
      this.codec = Objects.requireNonNull(codec, "codec");
      return this;
    }

    /**
     * Guest bytes per chunk (default {@link #DEFAULT_CHUNK}).
     *
     * @throws IllegalArgumentException unless a multiple of 512 from 512 to {@link ArchiveWriter#MAX_CHUNK}
     */
    public Builder chunkSize(int bytes) {
      if (bytes <= 0 || bytes > ArchiveWriter.MAX_CHUNK || bytes % 512 != 0) {
        throw new IllegalArgumentException("chunk size: " + bytes + " (expected a multiple of 512 up to "
            + ArchiveWriter.MAX_CHUNK + ")");
      }
      this.chunkSize = bytes;
      return this;
    }

    /** The tool version written into the manifest (default: the engine's version). */
    public Builder toolVersion(String version) {
      this.toolVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Stores {@code xml} as the archive's checkpoint entry instead of the formatted checkpoint: for
     * the engine's own tests, which write archives a restore must refuse or treat specially.
     */
    Builder storedXml(byte[] xml) {
      this.storedXml = xml.clone();
      return this;
    }

    /** The request. */
    public BackupRequest build() {
      return new BackupRequest(this);
    }
  }
}
