package org.tidemark.consolidate;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveLimitException;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;
import org.tidemark.backup.ExtentMath;
import org.tidemark.backup.Progress;
import org.tidemark.internal.FileSystemSpace;
import org.tidemark.internal.Workers;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.EngineOptions;
import org.tidemark.restore.PlanCopy;

/**
 * Rewrites the archive of one point of a domain's backups as a full archive (a synthetic full),
 * from the repository's archives alone, in place: same file name, same checkpoint XML, domain,
 * checkpoint and creation time; every disk full ({@code consolidated}, its reason naming the archives
 * it was built from); no parent.
 *
 * <p>Under the domain's lock ({@link Repository#lock}) it removes what killed writers left,
 * resolves the point's chain as a restore does ({@link Repository#chains}, with the same checks of
 * links and of each archive's consistency), plans every disk ({@link RestorePlanner}: newest wins),
 * and streams the planned chunks ({@link PlanCopy}: each read, checked and decompressed, with
 * bounded memory whatever the chain's length) into a new archive written as a full backup writes
 * one ({@link FullChunker}: data extents cut into chunks, zero extents kept as holes). A chunk of
 * the chain that the new archive takes whole, in the codec asked for (or uncompressed), is copied
 * as it is instead of being decoded and encoded again (after it is read, decoded and checked
 * against its CRC-32C like the others). The new
 * archive is a pending replacement of the point's archive ({@link ArchiveWriter#replace}); it is
 * checked while still pending and only then committed, which renames it over the old archive
 * atomically.
 *
 * <p><b>The check before the swap.</b> Every byte put into the new archive comes from a chunk of
 * the chain that was read, decoded and found to match its CRC-32C (or is a zero the plan names),
 * and each new chunk's CRC-32C is computed over those bytes before they are compressed: the data is
 * checked as it is made. What the file then holds is checked from the file itself, without a second
 * pass over the data ({@link ArchiveVerifier#verifyStructure}): the seal and the SHA-256 of the
 * metadata, the manifest, the index, the chunks tiling the file, every chunk's tar header, and the
 * consistency of manifest and index. The writes go around the page cache, so reading the data back
 * means reading it from the device again (about as long as writing it): {@link
 * ConsolidateRequest#readBack} asks for that too ({@link ArchiveVerifier#verify}: every chunk
 * decoded and checked), for operators who want the device's copy checked before the old archive
 * goes. A crash at any moment leaves the point held either
 * by its old archive (its chain intact) or by the new full one; a leftover is a hidden temporary
 * file that no reader takes for an archive and that the next run removes.
 *
 * <p>The later archives of the chain name the point's archive as their parent by its file name,
 * which does not change, and they hold the same disks at the same sizes: they stay restorable. The
 * older archives are no longer in the point's chain; pruning them is {@code tidemark prune}'s job.
 * A point whose archive is a full backup already is left as it is.
 *
 * <p>Thread-safe: each {@link #run} is independent (two runs on one domain are serialised by the
 * lock).
 */
public final class Consolidator {
  /** The decision code of every disk of a consolidated archive. */
  public static final DiskDecision DECISION = DiskDecision.CONSOLIDATED;

  private static final Logger LOG = LoggerFactory.getLogger(Consolidator.class);

  private final Repository repository;
  private final EngineOptions options;

  /** A consolidator of {@code repository}'s archives, refusing at once when another run holds the domain's lock. */
  public Consolidator(Repository repository) {
    this(repository, EngineOptions.defaults());
  }

  /** A consolidator that waits up to {@code lockWait} for another run holding the domain's lock. */
  public Consolidator(Repository repository, Duration lockWait) {
    this(repository, EngineOptions.defaults().withLockWait(lockWait));
  }

  /**
   * A consolidator working as {@code options} say (workers or executor, and how long to wait for
   * another run holding the domain's lock).
   */
  public Consolidator(Repository repository, EngineOptions options) {
    this.repository = Objects.requireNonNull(repository, "repository");
    this.options = Objects.requireNonNull(options, "options");
  }

  /**
   * Consolidates the point {@code request} names.
   *
   * @throws org.tidemark.archive.RepositoryLockedException when another run holds the domain's lock
   * @throws org.tidemark.archive.ArchiveException when there is no such backup, its chain does not
   *     resolve, an archive of it is corrupt, or the new archive fails verification (the old one is kept)
   * @throws ArchiveLimitException when the full archive would break a limit of the format
   */
  public ConsolidateResult run(ConsolidateRequest request, Progress progress) throws IOException {
    return run(request, progress, Cancellation.none());
  }

  /**
   * Consolidates the point {@code request} names unless {@code cancellation} is cancelled first
   * (checked between chunks; a cancelled run leaves the point's archive as it was).
   *
   * @throws org.tidemark.engine.CancelledException when cancelled
   */
  public ConsolidateResult run(ConsolidateRequest request, Progress progress, Cancellation cancellation)
      throws IOException {
    String what = request.checkpoint().map(c -> "consolidation of " + c).orElse("consolidation of the newest backup");
    try (RepositoryLock lock = repository.lock(request.domain(), what, options.lockWait())) {
      return runLocked(request, progress, cancellation, what);
    }
  }

  private ConsolidateResult runLocked(ConsolidateRequest request, Progress progress, Cancellation cancellation,
      String what) throws IOException {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    List<Path> leftovers = repository.removeLeftovers(request.domain());
    for (Path leftover : leftovers) {
      LOG.warn("removed {}, left by a run that did not finish", leftover);
    }
    List<StoredBackup> chain = repository.chain(request.domain(), request.checkpoint());
    StoredBackup head = chain.get(0);
    Manifest old = head.manifest();
    if (old.parent().isEmpty() && old.disks().stream().allMatch(DiskManifest::isFull)) {
      LOG.info("{} is a full backup already: nothing to consolidate", head.path());
      return new ConsolidateResult(head.checkpoint(), head.path(), List.of(head.path()), false, head.size(),
          head.size(), List.of(), leftovers, Duration.between(started, Instant.now()));
    }
    LOG.info("consolidating {}/{} from a chain of {} archives: {}", request.domain(), head.checkpoint(), chain.size(),
        chain.stream().map(StoredBackup::id).toList());
    List<ArchiveReader> readers = new ArrayList<>();
    Workers.Pool encoders = Workers.pool("tidemark-encoder", Workers.count(options.workers(), Integer.MAX_VALUE),
        options.executor());
    try {
      List<RestorePlanner.Layer> layers = PlanCopy.openChain(chain, readers);
      List<RestorePlanner.DiskPlan> plans = new ArrayList<>();
      for (DiskManifest d : old.disks()) {
        plans.add(RestorePlanner.plan(d.name(), layers));
      }
      int[] chunkSize = {request.chunkSize()};
      Manifest manifest = fullManifest(head, chain, plans, request, chunkSize);
      String name = Repository.fileName(request.domain()) + "/" + head.id();
      progress.start("consolidate " + request.domain() + "/" + head.checkpoint(),
          plans.stream().mapToLong(RestorePlanner.DiskPlan::dataBytes).sum());
      List<ConsolidateResult.DiskResult> disks = new ArrayList<>();
      long t1 = System.nanoTime();
      try (ArchiveWriter writer = ArchiveWriter.replace(repository.store(), name, readers.get(0).checkpointXml(),
          manifest)) {
        boolean copy = mayCopy(manifest, plans, request, chunkSize[0]);
        for (int i = 0; i < plans.size(); i++) {
          RestorePlanner.DiskPlan plan = plans.get(i);
          List<RestorePiece> copies = copy ? plan.pieces().stream()
              .filter(p -> FullChunker.copied(p, request.codec(), chunkSize[0])).toList() : List.of();
          List<RestorePiece> decoded = plan.pieces().stream()
              .filter(p -> copies.isEmpty() || !FullChunker.copied(p, request.codec(), chunkSize[0])).toList();
          try (FullChunker chunker = new FullChunker(writer, manifest.disks().get(i), request.codec(), chunkSize[0],
              encoders, copies, readers, progress)) {
            new PlanCopy(new RestorePlanner.DiskPlan(plan.disk(), plan.virtualSize(), decoded)).run(readers, chunker,
                progress, options, cancellation, what);
            disks.add(chunker.finish());
          }
        }
        long t2 = System.nanoTime();
        List<Finding> findings = request.readBack() ? ArchiveVerifier.verify(writer.openFinished())
            : ArchiveVerifier.verifyStructure(writer.openFinished());
        if (!findings.isEmpty()) {
          throw new ArchiveInconsistentException(head.path(), findings);
        }
        long t3 = System.nanoTime();
        writer.commit();
        long t4 = System.nanoTime();
        LOG.info("{} is now a full backup ({} bytes, was {})", head.path(), writer.bytesWritten(), head.size());
        LOG.debug("consolidation phases: chain opened and planned in {} ms, new archive written in {} ms, {} in {} ms,"
            + " committed in {} ms", ms(t1 - t0), ms(t2 - t1), request.readBack() ? "read back and verified"
            : "structure checked", ms(t3 - t2), ms(t4 - t3));
        return new ConsolidateResult(head.checkpoint(), head.path(), chain.stream().map(StoredBackup::path).toList(),
            true, head.size(), writer.bytesWritten(), disks, leftovers, Duration.between(started, Instant.now()));
      }
    } catch (IOException e) {
      // the repository filled up: name the archive being replaced (kept as it was) and its file system
      throw FileSystemSpace.naming(e, head.path());
    } finally {
      progress.finish();
      encoders.close();
      for (ArchiveReader r : readers) {
        r.close();
      }
    }
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }

  /**
   * The manifest of the full archive: per disk, the plan's pieces as extents (data where a chunk
   * supplies the bytes, zeros where the chain says zeros or names nothing), held to the format's
   * extent limit ({@link ExtentMath#bound}: small zero ranges become data) and the chunk size to
   * its chunk limit ({@link ExtentMath#chunkSize}), as a backup does; {@code chunkSize[0]} is set
   * to the size taken.
   */
  private static Manifest fullManifest(StoredBackup head, List<StoredBackup> chain, List<RestorePlanner.DiskPlan> plans,
      ConsolidateRequest request, int[] chunkSize) throws IOException {
    List<List<ExtentRecord>> extents = new ArrayList<>();
    for (RestorePlanner.DiskPlan p : plans) {
      extents.add(extents(p.pieces()));
    }
    int[] budgets = ExtentMath.budgets(extents.stream().mapToInt(List::size).toArray(), ArchiveLimits.MAX_EXTENTS);
    for (int i = 0; i < extents.size(); i++) {
      extents.set(i, ExtentMath.bound(extents.get(i), budgets[i]));
    }
    chunkSize[0] = ExtentMath.chunkSize(request.chunkSize(), extents);
    if (chunkSize[0] < 0) {
      throw new ArchiveLimitException(head.path(), "the disks hold too much data for one full archive: "
          + ExtentMath.chunks(extents, ArchiveLimits.MAX_CHUNK) + " chunks of " + ArchiveLimits.MAX_CHUNK
          + " bytes (an archive holds at most " + ArchiveLimits.MAX_CHUNKS + ")");
    }
    Manifest old = head.manifest();
    List<DiskManifest> disks = new ArrayList<>();
    for (int i = 0; i < plans.size(); i++) {
      DiskManifest d = old.disks().get(i);
      disks.add(new DiskManifest(d.name(), DiskManifest.FULL, DECISION, reason(d, chain), d.virtualSize(),
          chunkSize[0], extents.get(i)));
    }
    return Manifest.of(request.toolVersion(), old.domain(), old.checkpoint(), old.createdAt(), Optional.empty(), disks);
  }

  /**
   * Whether chunks of the chain may be copied as they are ({@link FullChunker}): each copied chunk
   * may cut the run of bytes around it in two, so they are copied only when even twice the chunks
   * of a plain cut, and two more per copied chunk, stay within the format's limit.
   */
  private static boolean mayCopy(Manifest manifest, List<RestorePlanner.DiskPlan> plans, ConsolidateRequest request,
      int chunkSize) {
    long copies = 0;
    for (RestorePlanner.DiskPlan p : plans) {
      copies += p.pieces().stream().filter(x -> FullChunker.copied(x, request.codec(), chunkSize)).count();
    }
    long plain = ExtentMath.chunks(manifest.disks().stream().map(DiskManifest::extents).toList(), chunkSize);
    return 2 * plain + 2 * copies <= ArchiveLimits.MAX_CHUNKS;
  }

  /** Joins the plan's pieces into extents: touching pieces of the same kind become one. */
  static List<ExtentRecord> extents(List<RestorePiece> pieces) {
    List<ExtentRecord> out = new ArrayList<>();
    for (RestorePiece p : pieces) {
      ExtentRecord last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.end() == p.offset() && last.zero() == p.zero()) {
        out.set(out.size() - 1, new ExtentRecord(last.offset(), last.length() + p.length(), last.zero()));
      } else {
        out.add(new ExtentRecord(p.offset(), p.length(), p.zero()));
      }
    }
    return out;
  }

  /**
   * Why the disk is full: the archives its data came from (the point's own down to the disk's
   * full copy) and how it was stored before.
   */
  private static String reason(DiskManifest before, List<StoredBackup> chain) {
    List<String> from = new ArrayList<>();
    for (StoredBackup b : chain) {
      from.add(b.id());
      if (b.manifest().disk(before.name()).map(DiskManifest::isFull).orElse(false)) {
        break;
      }
    }
    return "synthetic full built from the archives " + from + " (newest first); stored before as " + before.kind().code()
        + " (" + before.decision().code() + ")";
  }
}
