package org.tidemark.consolidate;

import java.util.Objects;
import java.util.Optional;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;

/**
 * What to consolidate and how to write it.
 *
 * @param domain the domain whose backup to consolidate
 * @param checkpoint the point to rewrite as a full archive; empty for the newest backup
 * @param codec how the new archive's chunks are compressed
 * @param chunkSize guest bytes per chunk, a multiple of 512 up to {@link ArchiveWriter#MAX_CHUNK}
 *     (doubled when the data would need more chunks than an archive holds, as a backup does)
 * @param toolVersion written into the new manifest
 * @param readBack whether the new archive is read back whole before the swap, every chunk
 *     decoded and checked against its CRC-32C as {@code tidemark verify} checks it (a second pass
 *     over the data, from the device); otherwise (the default) its structure is checked from the
 *     file (seal, manifest, index, tar headers, that the chunks tile the file) and its data only as
 *     it is made: every byte put into it comes from a chunk of the chain checked on read
 *     ({@link Consolidator})
 */
public record ConsolidateRequest(String domain, Optional<String> checkpoint, Codec codec, int chunkSize,
    String toolVersion, boolean readBack) {
  /** Checks the fields. */
  public ConsolidateRequest {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(codec, "codec");
    Objects.requireNonNull(toolVersion, "toolVersion");
    if (chunkSize <= 0 || chunkSize > ArchiveWriter.MAX_CHUNK || chunkSize % 512 != 0) {
      throw new IllegalArgumentException("chunk size: " + chunkSize + " (expected a multiple of 512 up to "
          + ArchiveWriter.MAX_CHUNK + ")");
    }
  }

  /** A request that checks the new archive's structure before the swap, without reading its data back. */
  public ConsolidateRequest(String domain, Optional<String> checkpoint, Codec codec, int chunkSize,
      String toolVersion) {
    this(domain, checkpoint, codec, chunkSize, toolVersion, false);
  }

  /** The newest backup of {@code domain}, or the named point, zstd in chunks of the default size. */
  public static ConsolidateRequest of(String domain, Optional<String> checkpoint, String toolVersion) {
    return new ConsolidateRequest(domain, checkpoint, Codec.ZSTD, ArchiveWriter.DEFAULT_CHUNK, toolVersion);
  }

  /** This request, reading the new archive back whole before the swap or not ({@link #readBack}). */
  public ConsolidateRequest withReadBack(boolean readBack) {
    return new ConsolidateRequest(domain, checkpoint, codec, chunkSize, toolVersion, readBack);
  }
}
