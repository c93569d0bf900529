package org.tidemark.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
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
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.tidemark.archive.ArchiveConsistency;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.CancelledException;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.internal.DirectWrites;
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
  /** Chunks read and decoded ahead of the writer. */
  static final int IN_FLIGHT = 8;
  /**
   * Bytes of chunk buffers held at most between a chunk's first and last piece ({@link
   * RestorePlanner.DiskPlan#reads(int)}): 16 chunks of 4 MiB, 4 of 16 MiB, at least one chunk.
   */
  static final int HELD_BYTES = 64 << 20;
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
   * Restores what {@code request} names into its folder ({@link RestoreTarget#folder}).
   *
   * @throws ArchiveException when the chain is incomplete or an archive is corrupt
   * @throws FileAlreadyExistsException when an output exists and overwriting was not asked for
   */
  public RestoreResult run(RestoreRequest request, Progress progress) throws IOException {
    return run(request, new FolderTarget(request.directory(), request.overwrite(), options.directIo()), progress,
        Cancellation.none());
  }

  /**
   * Restores what {@code request} names to {@code target} (the request's directory and overwrite
   * flag are then unused), unless {@code cancellation} is cancelled first: it is checked between
   * chunks, and a cancelled restore abandons every output ({@link RestoreTarget#abandon()}).
   *
   * @throws CancelledException when cancelled: none of the outputs is left
   * @throws ArchiveException when the chain is incomplete or an archive is corrupt
   * @throws FileAlreadyExistsException when an output exists and the target may not replace it
   */
  public RestoreResult run(RestoreRequest request, RestoreTarget target, Progress progress, Cancellation cancellation)
      throws IOException {
    Instant started = Instant.now();
    List<StoredBackup> chain = repository.chain(request.domain(), request.checkpoint());
    StoredBackup head = chain.get(0);
    String operation = "restore of " + request.domain() + "/" + head.checkpoint();
    LOG.info("restoring {}/{} from a chain of {} archives: {}", request.domain(), head.checkpoint(), chain.size(),
        chain.stream().map(b -> b.path().getFileName().toString()).toList());
    List<String> disks = head.manifest().disks().stream().map(DiskManifest::name)
        .filter(d -> request.disk().isEmpty() || request.disk().get().equals(d)).toList();
    if (disks.isEmpty()) {
      throw new ArchiveException(head.path(), "the backup has no disk '" + request.disk().orElse("") + "' (disks: "
          + head.manifest().disks().stream().map(DiskManifest::name).toList() + ")");
    }
    String definitionName = request.newName().orElse(request.domain());
    Optional<Path> domainXml = target.definition(definitionName);
    List<ArchiveReader> readers = new ArrayList<>();
    boolean published = false;
    try {
      List<RestorePlanner.Layer> layers = new ArrayList<>();
      for (StoredBackup b : chain) {
        ArchiveReader r = ArchiveReader.open(b.path());
        readers.add(r);
        ArchiveInconsistentException.throwIfAny(ArchiveConsistency.check(r));
        layers.add(new RestorePlanner.Layer(b.path(), r.manifest(), r.chunks()));
      }
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
      target.prepare(disks, request.format(), definition.map(d -> definitionName));
      progress.start("restore " + request.domain() + "/" + head.checkpoint(),
          plans.stream().mapToLong(RestorePlanner.DiskPlan::dataBytes).sum());
      List<RestoreResult.DiskResult> results = new ArrayList<>();
      for (RestorePlanner.DiskPlan plan : plans) {
        progress.item(plan.disk(), plan.dataBytes());
        results.add(restoreDisk(plan, readers, request.format(), target, new Run(progress, cancellation, operation)));
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
        throw new ArchiveException(archive, "the checkpoint was saved without its domain: there is no definition to restore"
            + " as '" + request.newName().get() + "'");
      }
      return d;
    } catch (CheckpointXmlException e) {
      throw new ArchiveException(archive, "its domain definition cannot be restored: " + e.getMessage(), e);
    }
  }

  /**
   * Writes one disk's output complete ({@link RestoreTarget.DiskOutput#complete()}); the target
   * makes it visible with the others ({@link RestoreTarget#publish()}).
   */
  private RestoreResult.DiskResult restoreDisk(RestorePlanner.DiskPlan plan, List<ArchiveReader> readers,
      ImageFormat format, RestoreTarget target, Run run) throws IOException {
    Path image = target.location(plan.disk(), format);
    int largest = plan.pieces().stream().filter(p -> !p.zero()).mapToInt(p -> p.chunk().rawLength()).max().orElse(1);
    List<RestorePlanner.ChunkRead> reads = plan.reads(Math.max(1, HELD_BYTES / largest));
    long chunks = reads.stream().map(r -> List.of(r.source(), r.chunk().dataOffset())).distinct().count();
    LOG.info("restoring disk {} ({} bytes of data from {} chunks, {} reads) to {} ({})", plan.disk(), plan.dataBytes(),
        chunks, reads.size(), image, format);
    try (RestoreTarget.DiskOutput out = target.open(plan.disk(), plan.virtualSize(), format)) {
      copyChunks(reads, largest, readers, out, run);
      out.complete();
    }
    return new RestoreResult.DiskResult(plan.disk(), image, plan.virtualSize(), plan.dataBytes(), (int) chunks, format);
  }

  /**
   * Reads, checks and decompresses every chunk on the {@link Workers} into buffers of {@code
   * bufferSize} bytes (the largest chunk's raw length), and writes the image from
   * the calling thread, front to back. One writer: parallel writes into one file only contend for
   * its inode lock, burning a core while the other copies. Front to back: the pieces of the chain
   * are written in guest order, so that those adjacent in the guest leave as one write ({@link
   * GatheringWriter}) instead of one small write each.
   *
   * <p>Chunks are read in the order the image first needs them ({@link
   * RestorePlanner.DiskPlan#reads()}), up to {@value #IN_FLIGHT} ahead of the writer, each into a
   * direct buffer aligned for direct I/O (bytes go from the archive through the decompressor to the
   * image without a copy through the Java heap, and around the page cache where the file system
   * allows it). A buffer is reused once every piece of its read is written. Memory stays bounded:
   * besides the chunks read ahead, the writer holds those whose guest range spans its position
   * (one per archive of the chain at most), and no more than {@value #HELD_BYTES} bytes of them:
   * past that, the plan reads a chunk again instead of holding it. With the chunk being written and
   * the one a gathered write may still point into, a restore has at most 26 buffers of 4 MiB chunks
   * (104 MiB) or 14 of 16 MiB ones, however long the chain. The first failure stops the rest.
   */
  private void copyChunks(List<RestorePlanner.ChunkRead> reads, int bufferSize, List<ArchiveReader> readers,
      RestoreTarget.DiskOutput out, Run run) throws IOException {
    List<Slot> slots = new ArrayList<>();
    for (int i = 0; i < reads.size(); i++) {
      for (RestorePiece piece : reads.get(i).pieces()) {
        slots.add(new Slot(piece, i));
      }
    }
    slots.sort(Comparator.comparingLong(s -> s.piece().offset()));
    Decoding[] decodings = new Decoding[reads.size()];
    ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    GatheringWriter writer = new GatheringWriter(out);
    Workers.Pool pool = Workers.pool("tidemark-restore", Workers.count(options.workers(), reads.size()),
        options.executor());
    try {
      int submitted = 0;
      int frontier = 0; // the newest read the writer has reached (reads are in order of first need)
      for (Slot slot : slots) {
        run.cancellation().check(run.operation());
        frontier = Math.max(frontier, slot.read());
        for (; submitted < reads.size() && submitted <= frontier + IN_FLIGHT; submitted++) {
          RestorePlanner.ChunkRead read = reads.get(submitted);
          ByteBuffer buffer = free.isEmpty() ? DirectWrites.allocate(bufferSize) : free.poll();
          decodings[submitted] = new Decoding(buffer, read.pieces().size(), pool.submit(() -> {
            readers.get(read.source()).readChunk(read.chunk(), buffer.clear());
            return null;
          }));
        }
        Decoding d = decodings[slot.read()];
        Workers.await(d.done(), "restore", "restoring a chunk failed");
        RestorePiece piece = slot.piece();
        int from = (int) (piece.offset() - reads.get(slot.read()).chunk().offset());
        writer.write(piece.offset(), d.buffer().duplicate().limit(from + (int) piece.length()).position(from), () -> {
          if (d.pieceWritten()) {
            free.add(d.buffer());
          }
        });
        run.progress().advance(piece.length());
      }
      writer.flush();
    } finally {
      pool.close();
    }
  }

  /** A guest piece of the image and the index of the read that supplies it. */
  private record Slot(RestorePiece piece, int read) {}

  /** A chunk being read and decoded into {@code buffer}, and how many of its pieces are not written. */
  private static final class Decoding {
    private final ByteBuffer buffer;
    private final Future<?> done;
    private int unwritten;

    Decoding(ByteBuffer buffer, int pieces, Future<?> done) {
      this.buffer = buffer;
      this.unwritten = pieces;
      this.done = done;
    }

    ByteBuffer buffer() {
      return buffer;
    }

    Future<?> done() {
      return done;
    }

    /** Counts one piece written; true when it was the last (the buffer is free again). */
    boolean pieceWritten() {
      return --unwritten == 0;
    }
  }
}
