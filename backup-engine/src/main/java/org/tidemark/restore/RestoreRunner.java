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
import org.tidemark.archive.UnknownPointException;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.CancelledException;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
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
  private final EngineOptions options;

  /** A runner reading from {@code repository} with {@link EngineOptions#defaults()}. */
  public RestoreRunner(Repository repository) {
    this(repository, EngineOptions.defaults());
  }

  /** A runner reading from {@code repository} as {@code options} say (workers or executor, direct I/O). */
  public RestoreRunner(Repository repository, EngineOptions options) {
    this.repository = java.util.Objects.requireNonNull(repository, "repository");
    this.options = java.util.Objects.requireNonNull(options, "options");
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
   * Restores what {@code request} names to {@code target}: {@code RestoreTarget.folder(directory,
   * overwrite)} for the default layout in a folder.
   *
   * @throws UnknownPointException when the request names a point or a disk the repository does not hold
   * @throws ArchiveException when the chain is incomplete or an archive is corrupt
   * @throws FileAlreadyExistsException when an output exists and the target may not replace it
   */
  public RestoreResult run(RestoreRequest request, RestoreTarget target, Progress progress) throws IOException {
    return run(request, target, progress, Cancellation.none());
  }

  /**
   * Restores what {@code request} names to {@code target}, unless {@code cancellation} is cancelled
   * first: it is checked between chunks, and a cancelled restore abandons every output ({@link
   * RestoreTarget#abandon()}). A {@link RestoreTarget#folder folder} target writes directly (around
   * the page cache) only when the options allow it ({@link EngineOptions#directIo()}).
   *
   * @throws CancelledException when cancelled: none of the outputs is left
   * @throws UnknownPointException when the request names a point or a disk the repository does not hold
   * @throws ArchiveException when the chain is incomplete or an archive is corrupt
   * @throws FileAlreadyExistsException when an output exists and the target may not replace it
   */
  public RestoreResult run(RestoreRequest request, RestoreTarget target, Progress progress, Cancellation cancellation)
      throws IOException {
    if (target instanceof FolderTarget folder && !options.directIo()) {
      target = folder.withoutDirectIo();
    }
    Instant started = Instant.now();
    List<StoredBackup> chain = repository.chain(request.domain(), request.checkpoint());
    StoredBackup head = chain.get(0);
    String operation = "restore of " + request.domain() + "/" + head.checkpoint();
    LOG.info("restoring {}/{} from a chain of {} archives: {}", request.domain(), head.checkpoint(), chain.size(),
        chain.stream().map(b -> b.path().getFileName().toString()).toList());
    List<String> disks = head.manifest().disks().stream().map(DiskManifest::name)
        .filter(d -> request.disk().isEmpty() || request.disk().get().equals(d)).toList();
    if (disks.isEmpty()) {
      throw new UnknownPointException(head.path(),
          ArchiveException.Where.ARCHIVE.withDisk(request.disk().orElse("")),
          "the backup has no disk '" + request.disk().orElse("") + "' (disks: "
          + head.manifest().disks().stream().map(DiskManifest::name).toList() + ")");
    }
    String definitionName = request.newName().orElse(request.domain());
    Optional<Path> domainXml = target.definition(definitionName);
    List<ArchiveReader> readers = new ArrayList<>();
    boolean published = false;
    try {
      List<RestorePlanner.Layer> layers = PlanCopy.openChain(chain, readers);
      List<RestorePlanner.DiskPlan> plans = new ArrayList<>();
      for (String disk : disks) {
        plans.add(RestorePlanner.plan(disk, layers));
      }
      Optional<DomainRewriter.Rewritten> definition = domainXml.isEmpty() ? Optional.empty()
          : definition(head.path(), readers.get(0), request, target, disks);
      if (domainXml.isPresent()) {
        definition.ifPresentOrElse(d -> LOG.info("domain definition {} points at the restored images{}", domainXml.get(),
            d.removedDisks().isEmpty() ? "" : "; left out, not restored: " + d.removedDisks()),
            () -> LOG.warn("the checkpoint {} was saved without its domain: no domain definition is written",
                head.checkpoint()));
      }
      if (target instanceof FolderTarget folder) {
        requireSpace(folder.directory(), request.format(), plans);
      }
      target.prepare(disks, request.format(), definition.map(d -> definitionName));
      progress.start("restore " + request.domain() + "/" + head.checkpoint(),
          plans.stream().mapToLong(RestorePlanner.DiskPlan::dataBytes).sum());
      List<RestoreResult.DiskResult> results = new ArrayList<>();
      for (RestorePlanner.DiskPlan plan : plans) {
        progress.item(plan.disk(), plan.dataBytes());
        try {
          results.add(restoreDisk(plan, readers, request.format(), target, new Run(progress, cancellation, operation)));
        } catch (IOException e) {
          throw FileSystemSpace.naming(e, target.location(plan.disk(), request.format()));
        }
      }
      cancellation.check(operation);
      if (definition.isPresent()) {
        target.writeDefinition(definitionName, definition.get().xml());
      }
      target.publish();
      published = true;
      List<Path> paths = chain.stream().map(StoredBackup::path).toList();
      return new RestoreResult(head.checkpoint(), paths, results, definition.flatMap(d -> domainXml),
          definition.map(DomainRewriter.Rewritten::removedDisks).orElse(List.of()), Duration.between(started, Instant.now()));
    } finally {
      progress.finish();
      if (!published) {
        target.abandon();
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
  private static void requireSpace(Path directory, ImageFormat format, List<RestorePlanner.DiskPlan> plans)
      throws IOException {
    long needed = 0;
    StringBuilder perDisk = new StringBuilder();
    for (RestorePlanner.DiskPlan p : plans) {
      long n = format.bytesOnDisk(p.virtualSize(), p.dataBytes());
      needed += n;
      perDisk.append(perDisk.length() == 0 ? "" : ", ").append(p.disk()).append(' ')
          .append(FileSystemSpace.bytes(n));
    }
    java.nio.file.FileStore store = FileSystemSpace.storeOf(directory);
    long usable = store.getUsableSpace();
    if (needed > usable) {
      throw new InsufficientSpaceException(directory, needed, usable, "not enough space for the restore: its "
          + format + " images take up to " + FileSystemSpace.bytes(needed) + " (" + perDisk + ") and the file"
          + " system " + FileSystemSpace.describe(store) + " has " + FileSystemSpace.bytes(usable) + " usable; nothing"
          + " was written");
    }
  }

  /** Whom one restore tells, and what stops it. */
  private record Run(Progress progress, Cancellation cancellation, String operation) {}

  /**
   * The domain definition of the newest archive's checkpoint, rewritten to point at the images
   * this restore writes (absolute paths), with the new name of the request if any; empty when the
   * checkpoint has no {@code <domain>}. Read before anything is written: a definition that cannot
   * be read stops the restore with nothing written.
   */
  private static Optional<DomainRewriter.Rewritten> definition(Path archive, ArchiveReader newest, RestoreRequest request,
      RestoreTarget target, List<String> disks) throws ArchiveException {
    List<DomainRewriter.RestoredDisk> images = disks.stream().map(d -> new DomainRewriter.RestoredDisk(d,
        target.location(d, request.format()), request.format().extension())).toList();
    try {
      Optional<DomainRewriter.Rewritten> d =
          DomainRewriter.rewrite(newest.checkpointXml(), "checkpoint.xml", images, request.newName(), RANDOM);
      if (d.isEmpty() && request.newName().isPresent()) {
        throw new ArchiveException(archive, ArchiveException.Where.entry("checkpoint.xml"), "the checkpoint"
            + " was saved without its domain: there is no definition to restore as '" + request.newName().get() + "'");
      }
      return d;
    } catch (CheckpointXmlException e) {
      throw new ArchiveException(archive, ArchiveException.Where.entry("checkpoint.xml"),
          "its domain definition cannot be restored: " + e.getMessage(), e);
    }
  }

  /**
   * Writes one disk's output complete ({@link RestoreTarget.DiskOutput#complete()}); the target
   * makes it visible with the others ({@link RestoreTarget#publish()}).
   */
  private RestoreResult.DiskResult restoreDisk(RestorePlanner.DiskPlan plan, List<ArchiveReader> readers,
      ImageFormat format, RestoreTarget target, Run run) throws IOException {
    Path image = target.location(plan.disk(), format);
    PlanCopy copy = new PlanCopy(plan);
    LOG.info("restoring disk {} ({} bytes of data from {} chunks, {} reads) to {} ({})", plan.disk(), plan.dataBytes(),
        copy.chunks(), copy.reads().size(), image, format);
    try (RestoreTarget.DiskOutput out = target.open(plan.disk(), plan.virtualSize(), format)) {
      copy.run(readers, out::write, run.progress(), options, run.cancellation(), run.operation());
      out.complete();
    }
    return new RestoreResult.DiskResult(plan.disk(), image, plan.virtualSize(), plan.dataBytes(), (int) copy.chunks(),
        format);
  }
}
