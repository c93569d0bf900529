package org.tidemark.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;

/**
 * Restores a point of a backup chain to raw disk images.
 *
 * <p>It resolves the chain (the backup of the checkpoint and its parents down to a full copy of
 * each disk), opens every archive of it (checking structure and seals), plans each disk (newest
 * wins), then reads each needed chunk once, checking its CRC-32C, and writes its pieces into a
 * sparse image; zero ranges stay holes. Images are written under temporary names and renamed only
 * when complete; a corrupt chunk stops the restore with {@link
 * org.tidemark.archive.ArchiveCorruptException} and leaves no image behind. Existing files are
 * refused up front unless {@code overwrite} is set.
 *
 * <p>Thread-safe: each {@link #run} is independent.
 */
public final class RestoreRunner {
  private final Repository repository;

  /** A runner reading from {@code repository}. */
  public RestoreRunner(Repository repository) {
    this.repository = repository;
  }

  /** The file a disk is restored to. */
  public static Path imagePath(Path directory, String disk) {
    return directory.resolve(disk + ".raw");
  }

  /** The file the domain definition is written to. */
  public static Path domainXmlPath(Path directory, String domain) {
    return directory.resolve(domain + ".xml");
  }

  /**
   * Restores what {@code request} names.
   *
   * @throws ArchiveException when the chain is incomplete or an archive is corrupt
   * @throws FileAlreadyExistsException when an output exists and overwriting was not asked for
   */
  public RestoreResult run(RestoreRequest request, Progress progress) throws IOException {
    Instant started = Instant.now();
    List<StoredBackup> chain = repository.chain(request.domain(), request.checkpoint());
    StoredBackup head = chain.get(0);
    List<String> disks = head.manifest().disks().stream().map(DiskManifest::name)
        .filter(d -> request.disk().isEmpty() || request.disk().get().equals(d)).toList();
    if (disks.isEmpty()) {
      throw new ArchiveException(head.path(), "the backup has no disk '" + request.disk().orElse("") + "' (disks: "
          + head.manifest().disks().stream().map(DiskManifest::name).toList() + ")");
    }
    Path domainXml = domainXmlPath(request.directory(), request.domain());
    if (!request.overwrite()) {
      for (Path p : outputs(request, disks, domainXml)) {
        if (Files.exists(p)) {
          throw new FileAlreadyExistsException(p.toString(), null, "exists (use --force to overwrite)");
        }
      }
    }
    Files.createDirectories(request.directory());
    List<ArchiveReader> readers = new ArrayList<>();
    try {
      List<RestorePlanner.Layer> layers = new ArrayList<>();
      for (StoredBackup b : chain) {
        ArchiveReader r = ArchiveReader.open(b.path());
        readers.add(r);
        layers.add(new RestorePlanner.Layer(b.path(), r.manifest(), r.chunks()));
      }
      List<RestorePlanner.DiskPlan> plans = new ArrayList<>();
      for (String disk : disks) {
        plans.add(RestorePlanner.plan(disk, layers));
      }
      progress.start("restore " + request.domain() + "/" + head.checkpoint(),
          plans.stream().mapToLong(RestorePlanner.DiskPlan::dataBytes).sum());
      List<RestoreResult.DiskResult> results = new ArrayList<>();
      for (RestorePlanner.DiskPlan plan : plans) {
        results.add(restoreDisk(plan, readers, request, progress));
      }
      writeDomainXml(readers.get(0), domainXml, request.overwrite());
      List<Path> paths = chain.stream().map(StoredBackup::path).toList();
      return new RestoreResult(head.checkpoint(), paths, results, domainXml, Duration.between(started, Instant.now()));
    } finally {
      progress.finish();
      for (ArchiveReader r : readers) {
        r.close();
      }
    }
  }

  private static List<Path> outputs(RestoreRequest request, List<String> disks, Path domainXml) {
    List<Path> out = new ArrayList<>();
    disks.forEach(d -> out.add(imagePath(request.directory(), d)));
    out.add(domainXml);
    return out;
  }

  private static RestoreResult.DiskResult restoreDisk(
      RestorePlanner.DiskPlan plan, List<ArchiveReader> readers, RestoreRequest request, Progress progress)
      throws IOException {
    Path image = imagePath(request.directory(), plan.disk());
    byte[] buf = new byte[ArchiveWriter.MAX_CHUNK];
    int chunks = 0;
    try (RawImageWriter out = RawImageWriter.create(image, plan.virtualSize(), request.overwrite())) {
      for (RestorePlanner.ChunkRead read : plan.reads()) {
        readers.get(read.source()).readChunk(read.chunk(), buf);
        chunks++;
        for (RestorePiece piece : read.pieces()) {
          int from = (int) (piece.offset() - read.chunk().offset());
          out.write(piece.offset(), ByteBuffer.wrap(buf, from, (int) piece.length()));
          progress.advance(piece.length());
        }
      }
      out.commit();
    }
    return new RestoreResult.DiskResult(plan.disk(), image, plan.virtualSize(), plan.dataBytes(), chunks);
  }

  /** Writes the {@code <domain>} element of the archive's checkpoint, as a top-level document. */
  private static void writeDomainXml(ArchiveReader newest, Path target, boolean overwrite) throws IOException {
    String xml = new String(newest.checkpointXml(), StandardCharsets.UTF_8);
    String domain = DomainXmlExtractor.extract(xml);
    Path temp = org.tidemark.internal.Publish.tempFor(target);
    Files.writeString(temp, domain, StandardCharsets.UTF_8);
    org.tidemark.internal.Publish.publish(temp, target, overwrite);
  }
}
