package org.tidemark.backup;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import org.tidemark.archive.ArchiveLimitException;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.EncodedChunk;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.ParentRef;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.StoredBackup;
import org.tidemark.disk.DiskSource;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.CancelledException;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.Workers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a backup: plans it, opens the disks, writes one archive with the changed (or all) clusters.
 *
 * <p>The copy is a pipeline: this thread reads each chunk of guest data from the image and hands
 * it to a pool of encoder threads (CRC-32C + compression; {@link Workers}); finished chunks are
 * written to the archive in guest order. The chunks in flight hold at most {@value #WINDOW} chunks' worth of
 * bytes ({@link ChunkBuffers}: many small chunks or a few whole ones), so memory stays bounded by {@code
 * WINDOW x chunk size x 2}. The archive only gets its final name
 * when everything is written and forced to disk.
 *
 * <p>Thread-safe: each {@link #run} is independent.
 */
public final class BackupRunner {
  private static final Logger LOG = LoggerFactory.getLogger(BackupRunner.class);
  /** Whole chunks' worth of bytes in flight (read, being encoded, or waiting to be written). */
  static final int WINDOW = 9;

  private final Repository repository;
  private final EngineOptions options;

  /** A runner writing into {@code repository} with {@link EngineOptions#defaults()}. */
  public BackupRunner(Repository repository) {
    this(repository, EngineOptions.defaults());
  }

  /**
   * A runner writing into {@code repository} that waits up to {@code lockWait} for another run
   * holding the domain's lock ({@link Repository#lock}) to finish.
   */
  public BackupRunner(Repository repository, Duration lockWait) {
    this(repository, EngineOptions.builder().lockWait(lockWait).build());
  }

  /**
   * A runner writing into {@code repository} as {@code options} say (worker threads or executor,
   * direct I/O, how long to wait for another run holding the domain's lock).
   */
  public BackupRunner(Repository repository, EngineOptions options) {
    this.repository = java.util.Objects.requireNonNull(repository, "repository");
    this.options = java.util.Objects.requireNonNull(options, "options");
  }

  /**
   * Backs up the checkpoint of {@code request}.
   *
   * @throws java.nio.file.FileAlreadyExistsException when the repository already has this backup
   * @throws IOException when an image or the repository cannot be read or written
   */
  public BackupResult run(BackupRequest request, Progress progress) throws IOException {
    return run(request, progress, BeforeCommit.NONE, Cancellation.none());
  }

  /**
   * Backs up the checkpoint of {@code request} unless {@code cancellation} is cancelled first:
   * it is checked between chunks, and a cancelled backup abandons its pending archive.
   *
   * @throws CancelledException when cancelled: no archive was written
   * @throws java.nio.file.FileAlreadyExistsException when the repository already has this backup
   * @throws IOException when an image or the repository cannot be read or written
   */
  public BackupResult run(BackupRequest request, Progress progress, Cancellation cancellation) throws IOException {
    return run(request, progress, BeforeCommit.NONE, cancellation);
  }

  /**
   * Backs up the checkpoint of {@code request}, running {@code beforeCommit} once every chunk is
   * written and before the archive is committed.
   *
   * @throws BackupAbortedException when {@code beforeCommit} threw: the archive was discarded
   * @throws org.tidemark.archive.RepositoryLockedException when another run holds the domain's lock
   * @throws java.nio.file.FileAlreadyExistsException when the repository already has this backup
   * @throws IOException when an image or the repository cannot be read or written
   */
  public BackupResult run(BackupRequest request, Progress progress, BeforeCommit beforeCommit) throws IOException {
    return run(request, progress, beforeCommit, Cancellation.none());
  }

  /**
   * Backs up the checkpoint of {@code request}, running {@code beforeCommit} once every chunk is
   * written and before the archive is committed, unless {@code cancellation} is cancelled first
   * (checked between chunks and before the commit).
   *
   * @throws BackupAbortedException when {@code beforeCommit} threw: the archive was discarded
   * @throws CancelledException when cancelled: the pending archive was abandoned
   * @throws org.tidemark.archive.RepositoryLockedException when another run holds the domain's lock
   * @throws java.nio.file.FileAlreadyExistsException when the repository already has this backup
   * @throws IOException when an image or the repository cannot be read or written
   */
  public BackupResult run(BackupRequest request, Progress progress, BeforeCommit beforeCommit,
      Cancellation cancellation) throws IOException {
    String domain = request.checkpoint().domain().orElseThrow().name();
    try (RepositoryLock lock = repository.lock(domain, "backup of " + request.checkpoint().name(),
        options.lockWait())) {
      return runLocked(request, progress, beforeCommit, domain, cancellation);
    } catch (IOException e) {
      // the repository filled up: name the archive being written and its file system
      throw org.tidemark.internal.FileSystemSpace.naming(e,
          repository.root().resolve(org.tidemark.archive.Repository.archiveName(domain, request.checkpoint().name())));
    }
  }

  /** The backup, with the domain's lock held: no other writer works on its folder meanwhile. */
  private BackupResult runLocked(BackupRequest request, Progress progress, BeforeCommit beforeCommit, String domain,
      Cancellation cancellation) throws IOException {
    String operation = "backup of " + domain + "/" + request.checkpoint().name();
    Instant started = Instant.now();
    for (Path leftover : repository.removeLeftovers(domain)) {
      LOG.warn("removed {}, left by a backup that did not finish", leftover);
    }
    Path target = repository.newArchivePath(domain, request.checkpoint().name());
    Map<String, DiskSource> open = new LinkedHashMap<>();
    Workers.Pool encoders = Workers.pool("tidemark-encoder", options.workers(), options.executor());
    try {
      List<String> warnings = new ArrayList<>();
      BackupPlanner planner = new BackupPlanner(name -> findBase(domain, name, request, warnings),
          request.knownCheckpoints());
      BackupPlan plan = planner.plan(request.checkpoint(), request.excluded(),
          request.copyMode() == BackupRequest.CopyMode.FULL,
          name -> openOnce(open, request, name));
      LOG.info("backup of {}/{}: {}", domain, request.checkpoint().name(), plan.isIncremental()
          ? "incremental since " + plan.base().orElseThrow().checkpoint().name() : "full");
      List<DiskPlan> copied = new ArrayList<>();
      List<List<ExtentRecord>> planned = new ArrayList<>();
      for (DiskPlan d : plan.disks()) {
        if (d.decision().isFallback()) {
          // the plan carries it to the caller, which presents it (the CLI: one warning line): logged at info
          LOG.info("disk {}: full copy instead of incremental: {}", d.disk(), d.reason());
        } else {
          LOG.info("disk {}: {} ({})", d.disk(), d.decision().code(), d.reason().isEmpty() ? d.decision().description() : d.reason());
        }
        if (d.decision().kind() == DiskDecision.Kind.SKIPPED) {
          continue;
        }
        DiskSource disk = openOnce(open, request, d.disk());
        long size = disk.virtualSize();
        if (size > ArchiveLimits.MAX_DISK_SIZE) {
          throw new ArchiveLimitException(target, String.format("disk '%s' has %d bytes (%.1f TiB); a backup copies"
              + " disks of at most %d bytes (%d TiB)", d.disk(), size, size / (double) (1L << 40),
              ArchiveLimits.MAX_DISK_SIZE, ArchiveLimits.MAX_DISK_SIZE >> 40));
        }
        boolean incremental = d.decision() == DiskDecision.INCREMENTAL;
        List<ExtentRecord> extents = incremental
            ? ExtentMath.incremental(disk.dirtyExtents(d.bitmaps()), disk.allocation(), size)
            : ExtentMath.full(disk.allocation(), size);
        copied.add(d);
        planned.add(bounded(d.disk(), extents, ArchiveLimits.MAX_EXTENTS));
      }
      int[] budgets = ExtentMath.budgets(planned.stream().mapToInt(List::size).toArray(), ArchiveLimits.MAX_EXTENTS);
      for (int i = 0; i < planned.size(); i++) {
        planned.set(i, bounded(copied.get(i).disk(), planned.get(i), budgets[i]));
      }
      int chunkSize = ExtentMath.chunkSize(request.chunkSize(), planned);
      if (chunkSize < 0) {
        throw new ArchiveLimitException(target, "the disks hold too much data for one archive: "
            + ExtentMath.chunks(planned, ArchiveLimits.MAX_CHUNK) + " chunks of " + ArchiveLimits.MAX_CHUNK
            + " bytes (an archive holds at most " + ArchiveLimits.MAX_CHUNKS + "); back the disks up separately");
      }
      if (chunkSize != request.chunkSize()) {
        LOG.info("chunks of {} bytes instead of {}: an archive holds at most {} chunks", chunkSize,
            request.chunkSize(), ArchiveLimits.MAX_CHUNKS);
      }
      List<DiskManifest> disks = new ArrayList<>();
      for (int i = 0; i < copied.size(); i++) {
        DiskPlan d = copied.get(i);
        disks.add(new DiskManifest(d.disk(), d.decision().kind(), d.decision(), d.reason(),
            open.get(d.disk()).virtualSize(), chunkSize, planned.get(i)));
      }
      Optional<ParentRef> parent = plan.isIncremental()
          ? Optional.of(plan.base().map(b -> new ParentRef(b.checkpoint().name(), b.archiveId())).orElseThrow())
          : Optional.empty();
      Manifest manifest = Manifest.of(request.toolVersion(), domain, request.checkpoint().name(), started, parent,
          disks);
      progress.start("backup " + domain + "/" + request.checkpoint().name(),
          disks.stream().mapToLong(DiskManifest::dataBytes).sum());
      List<BackupResult.DiskResult> results = new ArrayList<>();
      try (ArchiveWriter writer = ArchiveWriter.create(target, request.checkpointXml(), manifest, options.directIo())) {
        for (DiskManifest dm : disks) {
          DiskPlan dp = plan.disks().stream().filter(p -> p.disk().equals(dm.name())).findFirst().orElseThrow();
          progress.item(dm.name(), dm.dataBytes());
          results.add(copy(dm, dp, open.get(dm.name()), writer, new Encoding(request.codec(), chunkSize, encoders,
              progress, cancellation, operation)));
        }
        cancellation.check(operation);
        try {
          beforeCommit.check();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("backup interrupted");
        } catch (Exception e) {
          throw new BackupAbortedException(target, e);
        }
        Path archive = writer.commit();
        LOG.info("archive {} written ({} bytes)", archive, writer.bytesWritten());
        return new BackupResult(archive, plan, results, writer.bytesWritten(), Duration.between(started, Instant.now()),
            warnings);
      }
    } finally {
      progress.finish();
      encoders.close();
      IOException first = null;
      for (DiskSource d : open.values()) {
        try {
          d.close();
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
      if (first != null) {
        throw first;
      }
    }
  }

  /** The disk's extents, at most {@code max} of them ({@link ExtentMath#bound}), saying so when they were merged. */
  private static List<ExtentRecord> bounded(String disk, List<ExtentRecord> extents, int max) {
    List<ExtentRecord> out = ExtentMath.bound(extents, max);
    if (out.size() < extents.size()) {
      long before = extents.stream().filter(e -> !e.zero()).mapToLong(ExtentRecord::length).sum();
      long after = out.stream().filter(e -> !e.zero()).mapToLong(ExtentRecord::length).sum();
      LOG.info("disk {}: {} extents merged into {} (an archive lists at most {}): {} more bytes copied", disk,
          extents.size(), out.size(), max, after - before);
    }
    return out;
  }

  private static DiskSource openOnce(Map<String, DiskSource> open, BackupRequest request, String disk) throws IOException {
    DiskSource d = open.get(disk);
    if (d == null) {
      d = request.disks().open(disk);
      open.put(disk, d);
    }
    return d;
  }

  private Optional<BaseBackup> findBase(String domain, String checkpoint, BackupRequest request, List<String> warnings) {
    Optional<StoredBackup> b;
    try {
      b = repository.backupOf(domain, checkpoint);
    } catch (IOException e) {
      b = Optional.empty();
    }
    if (b.isEmpty()) {
      // an archive of this checkpoint that cannot be read: an older base is taken, and the run says so
      Path archive = repository.domainDir(domain).resolve(Repository.fileName(checkpoint) + Repository.SUFFIX);
      if (Files.exists(archive)) {
        String why;
        try (org.tidemark.archive.ArchiveReader r = org.tidemark.archive.ArchiveReader.open(archive)) {
          why = "it saves checkpoint '" + r.manifest().checkpoint() + "' of domain '" + r.manifest().domain() + "'";
        } catch (IOException e) {
          why = e.getMessage();
        }
        String w = "the backup of checkpoint '" + checkpoint + "' (" + archive + ") cannot be used as a base: " + why
            + "; an older base (or a full copy) is taken instead";
        warnings.add(w); // the result carries it to the caller, which presents it
        LOG.info(w);
      }
    }
    return b.map(s -> new BaseBackup(s.id(),
        Optional.ofNullable(request.knownCheckpoints().get(checkpoint)).orElseGet(() -> checkpointOf(s)),
        sizes(s.manifest())));
  }

  /**
   * The base's checkpoint when the checkpoint directory lacks it: its name and its disks, each taken
   * as tracked by a bitmap named after the checkpoint (libvirt's default).
   */
  private static org.tidemark.model.Checkpoint checkpointOf(StoredBackup s) {
    org.tidemark.model.Checkpoint.Builder b = org.tidemark.model.Checkpoint.builder().name(s.checkpoint());
    for (DiskManifest d : s.manifest().disks()) {
      b.addDisk(org.tidemark.model.CheckpointDisk.of(d.name(), org.tidemark.model.CheckpointType.BITMAP,
          Optional.empty(), java.util.OptionalLong.empty()));
    }
    return b.build();
  }

  private static Map<String, Long> sizes(Manifest m) {
    Map<String, Long> sizes = new LinkedHashMap<>();
    m.disks().forEach(d -> sizes.put(d.name(), d.virtualSize()));
    return sizes;
  }

  /** How one backup encodes its chunks: codec and size, the workers, and whom it tells. */
  private record Encoding(org.tidemark.archive.Codec codec, int chunkSize, Workers.Pool encoders, Progress progress,
      Cancellation cancellation, String operation) {}

  /**
   * Copies the data extents of one disk through the encoder pool into the archive, in order. The
   * workers read, checksum and compress chunks (the source is read from several threads at once);
   * the calling thread writes them in guest order. The chunks in flight share a ring of {@value
   * #WINDOW} whole chunks' worth of raw and scratch bytes, each chunk taking its own length of
   * both: when the next chunk does not fit, the oldest is written first.
   */
  private static BackupResult.DiskResult copy(DiskManifest dm, DiskPlan plan, DiskSource disk, ArchiveWriter writer,
      Encoding how) throws IOException {
    org.tidemark.archive.Codec codec = how.codec();
    int chunkSize = how.chunkSize();
    Workers.Pool encoders = how.encoders();
    Progress progress = how.progress();
    ArrayDeque<Future<EncodedChunk>> inFlight = new ArrayDeque<>();
    ChunkBuffers buffers = new ChunkBuffers(WINDOW * ChunkBuffers.footprint(chunkSize), footprint(dm, chunkSize));
    long read = 0;
    long stored = 0;
    int chunks = 0;
    for (ExtentRecord e : dm.extents()) {
      if (e.zero()) {
        continue;
      }
      for (long off = e.offset(); off < e.end(); off += chunkSize) {
        how.cancellation().check(how.operation());
        int len = (int) Math.min(chunkSize, e.end() - off);
        ByteBuffer[] pair;
        while ((pair = buffers.take(len)) == null) {
          stored += writeNext(inFlight, buffers, dm.name(), writer, progress);
          chunks++;
        }
        ByteBuffer raw = pair[0].limit(len);
        ByteBuffer scratch = pair[1];
        read += len;
        long chunkOffset = off;
        // the worker reads the chunk too: reads overlap with the writes of this thread
        inFlight.add(encoders.submit(() -> {
          disk.readFully(chunkOffset, raw);
          return EncodedChunk.encode(chunkOffset, raw.flip(), codec, scratch);
        }));
      }
    }
    while (!inFlight.isEmpty()) {
      stored += writeNext(inFlight, buffers, dm.name(), writer, progress);
      chunks++;
    }
    LOG.debug("disk {}: {} extents, {} bytes read, {} bytes stored in {} chunks", dm.name(), dm.extents().size(), read,
        stored, chunks);
    return new BackupResult.DiskResult(dm.name(), plan, dm.extents().size(), read, stored, chunks);
  }

  /** The ring bytes the chunks of {@code dm} need at most at once: all of them, or more than any window. */
  private static long footprint(DiskManifest dm, int chunkSize) {
    long cap = WINDOW * ChunkBuffers.footprint(chunkSize);
    long need = 0;
    for (ExtentRecord e : dm.extents()) {
      for (long off = e.offset(); !e.zero() && off < e.end() && need < cap; off += chunkSize) {
        need += ChunkBuffers.footprint((int) Math.min(chunkSize, e.end() - off));
      }
    }
    return need;
  }

  private static long writeNext(ArrayDeque<Future<EncodedChunk>> inFlight, ChunkBuffers buffers, String disk,
      ArchiveWriter writer, org.tidemark.engine.Progress progress) throws IOException {
    // a failed read of the source comes back as its own (typed) error, naming the image
    EncodedChunk c = Workers.await(inFlight.poll(), "backup", "encoding a chunk of disk " + disk + " failed");
    writer.writeChunk(disk, c);
    buffers.releaseOldest();
    progress.advance(c.rawLength());
    return c.storedLength();
  }
}
