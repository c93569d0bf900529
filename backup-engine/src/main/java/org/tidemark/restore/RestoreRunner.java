package org.tidemark.restore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.archive.ArchiveConsistency;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;
import org.tidemark.backup.Progress;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.FileSystemSpace;
import org.tidemark.store.Publish;
import org.tidemark.internal.Workers;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainRewriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restores a point of a backup chain to disk images, raw or qcow2 ({@link RestoreRequest#format()}).
 *
 * <p>It resolves the chain (the backup of the checkpoint and its parents down to a full copy of
 * each disk; without a checkpoint, the newest backup, and a failure when that one cannot be read,
 * see {@link Repository#chain}), opens every archive of it (checking structure and seals) and
 * applies to each the consistency rules {@code verify} applies ({@link ArchiveConsistency}), all
 * before writing anything. It then plans each disk (newest wins), reads each needed chunk once,
 * checking its CRC-32C, and writes its pieces into a thin image through the {@link
 * org.tidemark.disk.DiskImageWriter} of the requested {@link ImageFormat} ({@code DISK.raw} or
 * {@code DISK.qcow2}); zero ranges stay holes or unallocated. Chunks are read, checked and
 * decompressed on the {@link Workers}. The domain definition is the checkpoint's {@code <domain>}
 * rewritten by {@link DomainRewriter}: its restored disks point at the restored images (absolute
 * paths), its writable disks that were not restored are left out, so it never points at an
 * original writable disk; with {@link RestoreRequest#newName()}, it is {@code NEWNAME.xml} with a
 * new name, UUID and MAC addresses. A checkpoint saved without its domain gives no definition (the
 * result says so). Every image and the domain definition are written under
 * temporary names and all given their names only once every one of them is complete; a corrupt
 * chunk of any disk stops the restore with {@link org.tidemark.archive.ArchiveCorruptException}
 * and leaves nothing behind, not even the disks restored before it. Existing files are refused
 * before anything is written unless {@code overwrite} is set.
 *
 * <p>Thread-safe: each {@link #run} is independent.
 */
public final class RestoreRunner {
  private static final Logger LOG = LoggerFactory.getLogger(RestoreRunner.class);
  /** New UUIDs and MAC addresses of a renamed definition. */
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  private final Repository repository;

  /** A runner reading from {@code repository}. */
  public RestoreRunner(Repository repository) {
    this.repository = repository;
  }

  /** The file a disk is restored to as a raw image: {@code DISK.raw}. */
  public static Path imagePath(Path directory, String disk) {
    return imagePath(directory, disk, ImageFormat.RAW);
  }

  /** The file a disk is restored to in {@code format}: {@code DISK.raw} or {@code DISK.qcow2}. */
  public static Path imagePath(Path directory, String disk, ImageFormat format) {
    return format.imagePath(directory, disk);
  }

  /**
   * The file the domain definition is written to: {@code DOMAIN.xml}, the name as the repository
   * writes it ({@code Repository.fileName}); {@code NEWNAME.xml} for a restore under a new name.
   */
  public static Path domainXmlPath(Path directory, String domain) {
    return directory.resolve(org.tidemark.archive.Repository.fileName(domain) + ".xml");
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
    LOG.info("restoring {}/{} from a chain of {} archives: {}", request.domain(), head.checkpoint(), chain.size(),
        chain.stream().map(b -> b.path().getFileName().toString()).toList());
    List<String> disks = head.manifest().disks().stream().map(DiskManifest::name)
        .filter(d -> request.disk().isEmpty() || request.disk().get().equals(d)).toList();
    if (disks.isEmpty()) {
      throw new ArchiveException(head.path(), "the backup has no disk '" + request.disk().orElse("") + "' (disks: "
          + head.manifest().disks().stream().map(DiskManifest::name).toList() + ")");
    }
    Path domainXml = domainXmlPath(request.directory(), request.newName().orElse(request.domain()));
    List<ArchiveReader> readers = new ArrayList<>();
    Map<Path, Path> staged = new LinkedHashMap<>(); // target -> complete file under a temporary name
    try {
      List<RestorePlanner.Layer> layers = PlanCopy.openChain(chain, readers);
      List<RestorePlanner.DiskPlan> plans = new ArrayList<>();
      for (String disk : disks) {
        plans.add(RestorePlanner.plan(disk, layers));
      }
      Optional<DomainRewriter.Rewritten> definition = definition(head.path(), readers.get(0), request, disks);
      definition.ifPresentOrElse(d -> LOG.info("domain definition {} points at the restored images{}", domainXml,
          d.removedDisks().isEmpty() ? "" : "; left out, not restored: " + d.removedDisks()),
          () -> LOG.warn("the checkpoint {} was saved without its domain: no domain definition is written", head.checkpoint()));
      requireSpace(request, plans);
      prepareOutputs(request, outputs(request, disks, definition.isPresent() ? Optional.of(domainXml) : Optional.empty()));
      progress.start("restore " + request.domain() + "/" + head.checkpoint(),
          plans.stream().mapToLong(RestorePlanner.DiskPlan::dataBytes).sum());
      List<RestoreResult.DiskResult> results = new ArrayList<>();
      for (RestorePlanner.DiskPlan plan : plans) {
        try {
          results.add(restoreDisk(plan, readers, request, progress, staged));
        } catch (IOException e) {
          throw FileSystemSpace.naming(e, imagePath(request.directory(), plan.disk(), request.format()));
        }
      }
      if (definition.isPresent()) {
        staged.put(domainXml, writeDomainXml(definition.get().xml(), domainXml));
      }
      publishAll(staged, request.overwrite());
      List<Path> paths = chain.stream().map(StoredBackup::path).toList();
      return new RestoreResult(head.checkpoint(), paths, results, definition.map(d -> domainXml),
          definition.map(DomainRewriter.Rewritten::removedDisks).orElse(List.of()), Duration.between(started, Instant.now()));
    } finally {
      progress.finish();
      for (Path temp : staged.values()) {
        Publish.discard(temp); // none left once published
      }
      for (ArchiveReader r : readers) {
        r.close();
      }
    }
  }

  /**
   * Refuses a restore whose images would not fit in the usable space of the output folder's file
   * system, before anything is written: the sum over its disks of what each image takes on disk
   * ({@link ImageFormat#bytesOnDisk}: the data a restore writes, not the virtual size: the images are
   * sparse). Files it would replace are not counted as freed: they are replaced only once every
   * image is complete.
   *
   * @throws InsufficientSpaceException naming the folder, its file system and both sizes
   */
  private static void requireSpace(RestoreRequest request, List<RestorePlanner.DiskPlan> plans) throws IOException {
    long needed = 0;
    StringBuilder perDisk = new StringBuilder();
    for (RestorePlanner.DiskPlan p : plans) {
      long n = request.format().bytesOnDisk(p.virtualSize(), p.dataBytes());
      needed += n;
      perDisk.append(perDisk.length() == 0 ? "" : ", ").append(p.disk()).append(' ')
          .append(FileSystemSpace.bytes(n));
    }
    java.nio.file.FileStore store = FileSystemSpace.storeOf(request.directory());
    long usable = store.getUsableSpace();
    if (needed > usable) {
      throw new InsufficientSpaceException(request.directory(), needed, usable, "not enough space for the restore: its "
          + request.format() + " images take up to " + FileSystemSpace.bytes(needed) + " (" + perDisk + ") and the file"
          + " system " + FileSystemSpace.describe(store) + " has " + FileSystemSpace.bytes(usable) + " usable; nothing"
          + " was written");
    }
  }

  /**
   * Refuses existing outputs (unless overwriting), creates the output folder and removes the
   * temporary files a killed restore left there ({@code .NAME.tmp-RANDOM}).
   */
  private static void prepareOutputs(RestoreRequest request, List<Path> outputs) throws IOException {
    if (!request.overwrite()) {
      for (Path p : outputs) {
        if (Files.exists(p)) {
          throw new FileAlreadyExistsException(p.toString(), null, "exists (use --force to overwrite)");
        }
      }
    }
    Files.createDirectories(request.directory());
    for (Path p : outputs) {
      for (Path leftover : Publish.leftoversOf(p)) {
        Files.deleteIfExists(leftover);
        LOG.warn("removed {}, left by a restore that did not finish", leftover);
      }
    }
  }

  /**
   * Gives every complete output its name, the domain definition last. Without overwrite, a
   * failure (a file that appeared meanwhile) removes the outputs this call already named, so the
   * restore leaves nothing; with overwrite, the files it replaced are gone.
   */
  private static void publishAll(Map<Path, Path> staged, boolean overwrite) throws IOException {
    List<Path> published = new ArrayList<>();
    try {
      for (Map.Entry<Path, Path> e : staged.entrySet()) {
        Publish.publish(e.getValue(), e.getKey(), overwrite);
        published.add(e.getKey());
      }
    } catch (IOException | RuntimeException e) {
      if (!overwrite) {
        for (Path p : published) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
          }
        }
      }
      throw e;
    }
  }

  private static List<Path> outputs(RestoreRequest request, List<String> disks, Optional<Path> domainXml) {
    List<Path> out = new ArrayList<>();
    disks.forEach(d -> out.add(imagePath(request.directory(), d, request.format())));
    domainXml.ifPresent(out::add);
    return out;
  }

  /**
   * The domain definition of the newest archive's checkpoint, rewritten to point at the images
   * this restore writes (absolute paths), with the new name of the request if any; empty when the
   * checkpoint has no {@code <domain>}. Read before anything is written: a definition that cannot
   * be read stops the restore with nothing written.
   */
  private static Optional<DomainRewriter.Rewritten> definition(Path archive, ArchiveReader newest, RestoreRequest request,
      List<String> disks) throws ArchiveException {
    Path directory = request.directory().toAbsolutePath().normalize();
    List<DomainRewriter.RestoredDisk> images = disks.stream().map(d -> new DomainRewriter.RestoredDisk(d,
        imagePath(directory, d, request.format()), request.format().extension())).toList();
    try {
      Optional<DomainRewriter.Rewritten> d =
          DomainRewriter.rewrite(newest.checkpointXml(), "checkpoint.xml", images, request.newName(), RANDOM);
      if (d.isEmpty() && request.newName().isPresent()) {
        throw new ArchiveException(archive, "the checkpoint was saved without its domain: there is no definition to restore"
            + " as '" + request.newName().get() + "'");
      }
      return d;
    } catch (CheckpointXmlException e) {
      throw new ArchiveException(archive, "its domain definition cannot be restored: " + e.getMessage(), e);
    }
  }

  /**
   * Writes one disk's image complete under its temporary name beside its target ({@link
   * DiskImageWriter#finish()}), recorded in {@code staged} (target to temporary file) for {@link
   * #publishAll}.
   */
  private static RestoreResult.DiskResult restoreDisk(RestorePlanner.DiskPlan plan, List<ArchiveReader> readers,
      RestoreRequest request, Progress progress, Map<Path, Path> staged) throws IOException {
    Path image = imagePath(request.directory(), plan.disk(), request.format());
    PlanCopy copy = new PlanCopy(plan);
    LOG.info("restoring disk {} ({} bytes of data from {} chunks, {} reads) to {} ({})", plan.disk(), plan.dataBytes(),
        copy.chunks(), copy.reads().size(), image, request.format());
    try (DiskImageWriter out = request.format().create(image, plan.virtualSize(), request.overwrite())) {
      copy.run(readers, out::write, progress);
      staged.put(image, out.finish());
    }
    long chunks = copy.chunks();
    return new RestoreResult.DiskResult(plan.disk(), image, plan.virtualSize(), plan.dataBytes(), (int) chunks,
        request.format());
  }

  /** Writes the domain definition under a temporary name beside {@code target}; returns that name. */
  private static Path writeDomainXml(String domain, Path target) throws IOException {
    Path temp = Publish.tempFor(target);
    try {
      Files.writeString(temp, domain, StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
    } catch (IOException | RuntimeException e) {
      Publish.discard(temp);
      throw e;
    }
    return temp;
  }
}
