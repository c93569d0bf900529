package org.tidemark.libvirt;

import static org.tidemark.libvirt.LibvirtCalls.call;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainCheckpoint;
import org.libvirt.LibvirtException;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.Progress;
import org.tidemark.disk.DiskSource;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.nbd.NbdExport;
import org.tidemark.qcow2.BackingPolicy;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainGrammar;
import org.tidemark.xml.DomainXml;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Backs up a domain through libvirt. A running one: names and creates the new checkpoint together
 * with a pull-mode backup job ({@link PullBackup}), reads each disk's export over NBD ({@link
 * NbdExport}, {@link LiveDisk}), writes the archive tagged with the checkpoint XML libvirt reports
 * (parsed and validated by {@link CheckpointXml}), and always ends the job. A shut-off one: reads
 * the image files natively, tagged with a {@link ShutOffCheckpoint}.
 *
 * <p>The base of an incremental is the newest checkpoint libvirt still has whose backup the
 * repository holds; libvirt merges the bitmaps of the checkpoints after it (Tidemark's or another
 * tool's) into the export's dirty context. Without such a checkpoint, or with {@link Options#full},
 * the job is full; when the repository holds backups of the domain nonetheless, {@link
 * Result#chainBreak} says why. The job is incremental per disk: a disk added since the base, whose
 * image was replaced, or whose base bitmap libvirt refuses is exported in full, the others not.
 *
 * <p>The domain's repository lock is held from before the job begins to the commit, so a second run
 * on the domain neither begins a job nor creates a checkpoint.
 *
 * <p>A backup job left by a killed run (its socket in this runner's work folder for the domain) is
 * ended, and its scratch files removed, before a new one begins; a job of another tool is never
 * touched: the backup is refused instead.
 *
 * <p>Thread-safe: each {@link #run} is independent.
 */
public final class LiveBackupRunner {
  private static final Logger LOG = LoggerFactory.getLogger(LiveBackupRunner.class);
  /** libvirt's {@code VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN}. */
  static final int CHECKPOINT_XML_NO_DOMAIN = 1 << 1;
  /** How long the guest agent may take to freeze or thaw, in seconds. */
  private static final int AGENT_TIMEOUT_SECONDS = 60;
  /** {@link #beginJob}'s reason for a disk whose incremental libvirt refused. */
  private static final String REFUSED = "libvirt refused its base bitmap";
  private static final java.util.regex.Pattern REFUSED_DISK = java.util.regex.Pattern.compile("for disk '([^']+)'");
  /** The chunk {@link #preload} encodes: large enough for the coder's incompressibility probe. */
  private static final int PRELOAD_CHUNK = 256 << 10;
  /** The prefix of the checkpoints Tidemark names. */
  public static final String CHECKPOINT_PREFIX = "tidemark-";
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
      .withZone(ZoneOffset.UTC);

  /**
   * How to run a live backup.
   *
   * @param full copy every disk in full (the job still creates a checkpoint)
   * @param excluded disk targets not to back up
   * @param codec chunk compression
   * @param lockWait how long to wait for another run holding the domain's lock
   * @param workRoot a folder for the jobs' sockets and scratch files (one sub-folder per domain)
   * @param connections NBD connections per disk for parallel reads
   * @param keepCheckpoints how many of Tidemark's older checkpoints to keep besides the new one
   *     (each costs a bitmap per disk in QEMU); another tool's checkpoints are always kept
   * @param quiesce whether to freeze the guest's file systems (through the guest agent) while the
   *     job begins
   * @param tcp the NBD server on TCP (a libvirt on another host); empty for a Unix socket in {@code
   *     workRoot}
   * @param toolVersion written into the manifest
   */
  public record Options(boolean full, Set<String> excluded, Codec codec, Duration lockWait, Path workRoot,
      int connections, int keepCheckpoints, Quiesce quiesce, Optional<PullBackup.Tcp> tcp, String toolVersion) {
    /** Checks the fields. */
    public Options {
      excluded = Set.copyOf(excluded);
      Objects.requireNonNull(codec, "codec");
      Objects.requireNonNull(lockWait, "lockWait");
      Objects.requireNonNull(workRoot, "workRoot");
      Objects.requireNonNull(toolVersion, "toolVersion");
      Objects.requireNonNull(quiesce, "quiesce");
      Objects.requireNonNull(tcp, "tcp");
      if (connections < 1) {
        throw new IllegalArgumentException("connections " + connections + " (expected at least 1)");
      }
      if (keepCheckpoints < 0) {
        throw new IllegalArgumentException("keepCheckpoints " + keepCheckpoints + " (expected 0 or more)");
      }
    }
  }

  /**
   * What a live backup did.
   *
   * @param backup the backup itself (archive, decisions, figures)
   * @param checkpoint the checkpoint the job created (for a shut-off domain, Tidemark's own document)
   * @param base the checkpoint the backup was incremental since, if any
   * @param exports each disk's source: its NBD URI, or its image file when the domain was shut off
   * @param deletedCheckpoints Tidemark's older checkpoints deleted by the rotation
   * @param quiesced whether the guest's file systems were frozen while the job began
   * @param frozenFileSystems how many file systems the guest agent froze (its answer to the
   *     freeze), when {@code quiesced}; 0 means the agent answered but found none it could freeze
   * @param quiesceProblem why they were not, when it was asked for and failed
   * @param shutOff whether the domain was shut off: its disks were read from their image files
   *     ({@code exports} names them), and {@code checkpoint} is Tidemark's own document ({@link
   *     ShutOffCheckpoint}), not a libvirt checkpoint
   * @param chainBreak why the chain started again (a full backup), when the repository held backups of
   *     the domain but libvirt none of their checkpoints
   */
  public record Result(BackupResult backup, String checkpoint, Optional<String> base, Map<String, String> exports,
      List<String> deletedCheckpoints, boolean quiesced, java.util.OptionalInt frozenFileSystems,
      Optional<String> quiesceProblem, boolean shutOff, Optional<ChainBreak> chainBreak) {}

  /**
   * Why a live backup found no base although the repository holds backups of the domain, so the
   * chain starts again with a full backup.
   *
   * @param code {@code domain-redefined}: the domain was undefined and defined again (its UUID
   *     changed), and libvirt lost its checkpoints; {@code checkpoints-lost}: same UUID, but libvirt
   *     no longer has any checkpoint whose backup the repository holds (deleted, or their metadata lost)
   * @param detail the newest backup's checkpoint, and the UUIDs
   */
  public record ChainBreak(String code, String detail) {}

  /** Freezing the guest's file systems while the backup job begins (its point in time). */
  public enum Quiesce {
    /** Do not freeze: the disks are crash-consistent, as after a power cut. */
    OFF,
    /** Freeze through the guest agent when it answers; else say so (a warning) and go on. */
    TRY,
    /** Freeze, or refuse the backup ({@link QuiesceFailedException}) before any checkpoint is made. */
    REQUIRED
  }

  private final Repository repository;
  private final Connect connection;
  private final org.tidemark.engine.EngineOptions engine;
  private final int agentTimeoutSeconds;

  /** A runner writing into {@code repository}, talking to libvirt over {@code connection}. */
  public LiveBackupRunner(Repository repository, Connect connection) {
    this(repository, connection, org.tidemark.engine.EngineOptions.defaults());
  }

  /**
   * A runner writing into {@code repository}, talking to libvirt over {@code connection}, running
   * the engine as {@code engine} says (workers or executor, direct I/O); the lock wait is {@link
   * Options#lockWait()}.
   */
  public LiveBackupRunner(Repository repository, Connect connection, org.tidemark.engine.EngineOptions engine) {
    this(repository, connection, engine, AGENT_TIMEOUT_SECONDS);
  }

  /** A runner whose guest-agent calls (freeze, thaw) time out after {@code agentTimeoutSeconds}: for tests. */
  LiveBackupRunner(Repository repository, Connect connection, org.tidemark.engine.EngineOptions engine,
      int agentTimeoutSeconds) {
    this.repository = repository;
    this.connection = connection;
    this.engine = java.util.Objects.requireNonNull(engine, "engine");
    this.agentTimeoutSeconds = agentTimeoutSeconds;
  }

  /**
   * Backs up the domain {@code domainName}: through a pull-mode backup job when it runs, else from
   * its image files ({@link ShutOffCheckpoint} says how that backup is tagged and why the chain stays
   * sound).
   *
   * @throws LibvirtBackupException when libvirt refuses (no such domain, a job of another tool)
   * @throws org.tidemark.disk.ImageInUseException when the domain is shut off but another process
   *     writes one of its images
   * @throws org.tidemark.archive.RepositoryLockedException when another run holds the domain's lock
   * @throws CheckpointXmlException when libvirt's checkpoint XML is refused by the checkpoint grammar
   */
  public Result run(String domainName, Options options, Progress progress) throws IOException, CheckpointXmlException {
    Domain domain = lookup(domainName);
    try (RepositoryLock lock = repository.lock(domainName, "live backup", options.lockWait())) {
      if (!call(domainName, "read the domain's state", () -> domain.isActive() == 1)) {
        return runShutOff(domain, domainName, options, progress);
      }
      Path work = options.workRoot().resolve("job-" + call(domainName, "read the domain's UUID", domain::getUUIDString));
      Housekeeping.endLeftoverJob(domain, domainName, work, options.tcp());
      DomainDefinition definition = DomainXml.parse(
          call(domainName, "read the domain's XML", () -> domain.getXMLDesc(0)).getBytes(StandardCharsets.UTF_8),
          domainName + " (domain XML)", DomainGrammar.builtIn());
      List<String> disks = new ArrayList<>();
      for (DomainDisk d : definition.disks()) {
        if (!d.empty() && !d.readOnly() && !options.excluded().contains(d.target())) {
          disks.add(d.target());
        }
      }
      Map<String, Checkpoint> known = checkpoints(domain, domainName);
      Optional<String> wanted = options.full() ? Optional.empty() : base(domainName, known);
      Map<String, String> inFull = new LinkedHashMap<>(); // disk -> why the job copies it in full
      if (wanted.isPresent()) {
        // with its <domain>: the disks' images at the base, for the job and for the planner's reasons
        known.put(wanted.get(), withDomain(domain, domainName, wanted.get()));
        inFull.putAll(changedDisks(known.get(wanted.get()), definition, disks));
      }
      Optional<ChainBreak> chainBreak = wanted.isPresent() || options.full() ? Optional.empty()
          : chainBreak(domainName, definition);
      String name = newName(known.keySet(), domainName, "");
      Map<String, String> exports = new LinkedHashMap<>();
      PullBackup begun;
      GuestFreeze guest = new GuestFreeze(domain, domainName, agentTimeoutSeconds);
      GuestFreeze.Outcome freeze = guest.freeze(options.quiesce());
      preload(options.codec());
      try {
        begun = beginJob(domain, domainName, name, wanted, disks, inFull, work, options.tcp());
      } finally {
        guest.thawIfFrozen(freeze);
      }
      Optional<String> jobBase = begun.base();
      // disks whose base bitmap libvirt refused (QEMU was killed, or the image was replaced under the same
      // name): all of them when the job had to be full, else those inFull names as refused
      Set<String> broken = new java.util.HashSet<>(jobBase.isEmpty() && wanted.isPresent() ? disks : List.of());
      inFull.forEach((disk, why) -> {
        if (why.equals(REFUSED)) {
          broken.add(disk);
        }
      });
      try (PullBackup job = begun) {
        Checkpoint y = CheckpointXml.parse(job.checkpointXml().getBytes(StandardCharsets.UTF_8),
            domainName + "/" + name + " (libvirt)", Set.of());
        Map<String, Checkpoint> others = new HashMap<>(known);
        others.remove(name);
        disks.forEach(d -> exports.put(d, job.endpoint(d).uri()));
        BackupRequest request = BackupRequest.builder(y,
            disk -> open(job, disk, wanted.map(known::get), broken.contains(disk), options.connections()))
            .knownCheckpoints(others).exclude(options.excluded())
            .copyMode(options.full() ? BackupRequest.CopyMode.FULL : BackupRequest.CopyMode.INCREMENTAL_WHERE_POSSIBLE)
            .codec(options.codec()).toolVersion(options.toolVersion()).build();
        BackupResult result = new BackupRunner(repository, engine.withLockWait(options.lockWait())).run(request, progress);
        job.close(); // the job ends before its checkpoints are rotated
        List<String> deleted = Housekeeping.rotate(domain, domainName, name, options.keepCheckpoints());
        return new Result(result, name, jobBase, exports, deleted, freeze.frozen(), freeze.fileSystems(),
            freeze.problem(), false, chainBreak);
      }
    }
  }

  /**
   * Backs up a shut-off domain from its image files (read-only, QEMU's image locks honoured: a
   * {@code virsh start} during the copy fails to get its write lock, as beside {@code qemu-img}):
   * the changes since the base, from the bitmaps QEMU wrote into the images at shutdown, tagged
   * with a {@link ShutOffCheckpoint}. No checkpoint is made or deleted in libvirt; there is nothing
   * to freeze.
   */
  private Result runShutOff(Domain domain, String domainName, Options options, Progress progress)
      throws IOException, CheckpointXmlException {
    String uri = call(domainName, "read the connection's URI", connection::getURI);
    if (isRemote(uri)) {
      // the image paths are the other host's: a local file of the same name is another disk
      throw new LibvirtBackupException(domainName, "back up the shut-off domain", new IOException("the domain is "
          + "shut off on another host (" + uri + "): its image files are there; run tidemark on that host"));
    }
    DomainDefinition definition = DomainXml.parse(
        call(domainName, "read the domain's XML", () -> domain.getXMLDesc(0)).getBytes(StandardCharsets.UTF_8),
        domainName + " (domain XML)", DomainGrammar.builtIn());
    Map<String, Checkpoint> known = checkpoints(domain, domainName);
    Optional<String> base = options.full() ? Optional.empty() : base(domainName, known);
    if (base.isPresent()) {
      // with its <domain>: the images at the base, for the planner's disk-replaced
      known.put(base.get(), withDomain(domain, domainName, base.get()));
    }
    String name = newName(known.keySet(), domainName, ShutOffCheckpoint.SUFFIX);
    Checkpoint built = ShutOffCheckpoint.of(name, base.map(known::get), definition, Instant.now().getEpochSecond());
    byte[] xml = CheckpointXml.format(built).getBytes(StandardCharsets.UTF_8);
    // validated as every document an archive is tagged with
    Checkpoint y = CheckpointXml.parse(xml, domainName + "/" + name + " (shut-off domain)", Set.of(),
        DomainGrammar.builtIn());
    Map<String, BackingPolicy> backing = new HashMap<>();
    Map<String, String> sources = new LinkedHashMap<>();
    for (DomainDisk d : definition.disks()) {
      List<Path> chain = new ArrayList<>(); // the chain libvirt declares, besides the image's own folder tree
      for (String b : DomainXml.backingChain(definition, d.target())) {
        chain.add(Path.of(b));
      }
      backing.put(d.target(), BackingPolicy.allowing(chain));
      d.source().ifPresent(f -> sources.put(d.target(), f));
    }
    BackupRequest request = BackupRequest.builder(y, disk -> {
      DomainDisk d = definition.disk(disk).orElseThrow();
      Path path = Path.of(d.source().orElseThrow(() -> new IOException("domain " + domainName + ", disk " + disk
          + ": no source file to read (a shut-off domain's disks are read from their files)")));
      return Images.open(path, d.driverType(), backing.get(disk));
    }).knownCheckpoints(known).exclude(options.excluded())
        .copyMode(options.full() ? BackupRequest.CopyMode.FULL : BackupRequest.CopyMode.INCREMENTAL_WHERE_POSSIBLE)
        .codec(options.codec()).toolVersion(options.toolVersion()).build();
    LOG.info("domain {} is shut off: backing up its image files{}", domainName,
        base.map(b -> " since checkpoint " + b).orElse(""));
    BackupResult result = new BackupRunner(repository, engine.withLockWait(options.lockWait())).run(request, progress);
    return new Result(result, name, base, sources, List.of(), false, java.util.OptionalInt.empty(), Optional.empty(), true,
        Optional.empty());
  }

  /**
   * Begins the job, incremental since {@code base} but for the disks of {@code inFull}. When libvirt
   * refuses the incremental of one disk because its base bitmap is broken or missing ("checkpoint
   * inconsistent: missing or broken bitmap 'B' for disk 'vdb'": QEMU was killed, so it never saved
   * it; or the image was replaced under the same name), that disk is added to {@code inFull} (as
   * {@link #REFUSED}) and the job begun again, so the other disks stay incremental; when the
   * refusal names no disk, the job is begun full. The job's {@link PullBackup#base} says which.
   */
  private static PullBackup beginJob(Domain domain, String domainName, String name, Optional<String> base,
      List<String> disks, Map<String, String> inFull, Path work, Optional<PullBackup.Tcp> tcp) throws IOException {
    while (true) {
      try {
        return PullBackup.begin(domain, name, base, disks, inFull.keySet(), work, tcp);
      } catch (LibvirtBackupException e) {
        if (base.isEmpty() || !inconsistentCheckpoint(e)) {
          throw e;
        }
        String why = e.getCause().getMessage().strip();
        Optional<String> disk = refusedDisk(why).filter(disks::contains).filter(d -> !inFull.containsKey(d));
        if (disk.isPresent()) {
          LOG.warn("domain {}: libvirt refuses an incremental of disk {} since checkpoint {} ({}); that disk is "
              + "copied in full", domainName, disk.get(), base.get(), why);
          inFull.put(disk.get(), REFUSED);
          continue;
        }
        LOG.warn("domain {}: libvirt refuses an incremental since checkpoint {} ({}); backing up in full, the chain"
            + " goes on from the new checkpoint", domainName, base.get(), why);
        return PullBackup.begin(domain, name, Optional.empty(), disks, work, tcp);
      }
    }
  }

  /** The disk libvirt names in "missing or broken bitmap 'B' for disk 'vdb'", if it names one. */
  static Optional<String> refusedDisk(String message) {
    java.util.regex.Matcher m = REFUSED_DISK.matcher(message);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /**
   * The disks an incremental job since {@code base} copies in full, with why: a disk the base did not
   * track (added since), and a disk whose image is another file than at the base (replaced: the base
   * recorded its source, and it is neither the source now nor in the backing chain libvirt declares,
   * as after an external snapshot). libvirt would refuse an incremental of either.
   */
  static Map<String, String> changedDisks(Checkpoint base, DomainDefinition now, List<String> disks) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String d : disks) {
      if (bitmapOf(Optional.of(base), d).isEmpty()) {
        out.put(d, "not tracked by checkpoint " + base.name() + " (added since)");
        continue;
      }
      org.tidemark.backup.BackupPlanner.replacedImage(base, now, d).ifPresent(why -> out.put(d, why));
    }
    return out;
  }

  /**
   * Whether a libvirt URI names another host ({@code qemu+ssh://HOST/system}, {@code
   * qemu+tcp://HOST/...}); {@code localhost} and 127.x are this one.
   */
  public static boolean isRemote(String uri) {
    try {
      String host = java.net.URI.create(uri).getHost();
      return host != null && !host.isEmpty() && !host.equals("localhost") && !host.startsWith("127.");
    } catch (IllegalArgumentException e) {
      return false; // libvirt will say what is wrong with it
    }
  }

  /** libvirt's record of checkpoint {@code name}, with its {@code <domain>}. */
  private static Checkpoint withDomain(Domain domain, String domainName, String name)
      throws IOException, CheckpointXmlException {
    String xml = call(domainName, "read checkpoint " + name, () -> domain.checkpointLookupByName(name).getXMLDesc(0));
    return CheckpointXml.parse(xml.getBytes(StandardCharsets.UTF_8), domainName + "/" + name + " (libvirt)", Set.of());
  }

  /**
   * Why the chain starts again, when the repository holds backups of the domain (besides those of
   * it shut off, which are no base) but libvirt none of their checkpoints.
   */
  private Optional<ChainBreak> chainBreak(String domainName, DomainDefinition now) throws IOException {
    List<org.tidemark.archive.StoredBackup> backups = new ArrayList<>(repository.scan(domainName).backups());
    java.util.Collections.reverse(backups);
    for (org.tidemark.archive.StoredBackup b : backups) {
      if (b.checkpoint().endsWith(ShutOffCheckpoint.SUFFIX)) {
        continue;
      }
      Optional<String> then = Optional.empty();
      try (org.tidemark.archive.ArchiveReader r = org.tidemark.archive.ArchiveReader.open(b.path())) {
        then = CheckpointXml.parse(r.checkpointXml(), b.id(), EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN),
            DomainGrammar.builtIn()).domain().flatMap(DomainDefinition::uuid);
      } catch (IOException | CheckpointXmlException e) {
        LOG.debug("domain {}: reading the domain of backup {}: {}", domainName, b.id(), e.getMessage());
      }
      String newest = "the repository's newest backup is of checkpoint " + b.checkpoint();
      if (then.isPresent() && now.uuid().isPresent() && !then.equals(now.uuid())) {
        return Optional.of(new ChainBreak("domain-redefined", newest + ", of the domain with UUID " + then.get()
            + "; the domain now has UUID " + now.uuid().get() + " and libvirt lost the checkpoints"));
      }
      return Optional.of(new ChainBreak("checkpoints-lost", newest + "; libvirt no longer has it, nor any other "
          + "checkpoint the repository holds a backup of (deleted, or their metadata lost)"));
    }
    return Optional.empty();
  }

  /**
   * Loads, on a thread of its own, what the copy needs first (libnbd, the chunk coder's native
   * libraries and classes) while this one waits for libvirt to begin the job (0.1 to 0.3 s: QEMU
   * makes the scratch images and starts the NBD server).
   */
  private static void preload(Codec codec) {
    Thread t = new Thread(() -> {
      NbdExport.preload();
      byte[] sample = new byte[PRELOAD_CHUNK];
      for (int i = 0; i < sample.length; i++) {
        sample[i] = (byte) (i * 31 >>> 7);
      }
      try {
        org.tidemark.archive.EncodedChunk.encode(0, sample, sample.length, codec);
      } catch (RuntimeException | LinkageError e) {
        // the copy meets the same problem and reports it
      }
    }, "tidemark-preload");
    t.setDaemon(true);
    t.start();
  }

  /**
   * Opens one disk's export, with its dirty context when the job is incremental for it. A disk whose
   * base bitmap libvirt refused ({@code broken}) reports it in use, so the planner records why it is
   * copied in full; a disk the job copies in full for another reason reports the base's bitmap
   * missing (the planner says {@code new-disk} or {@code disk-replaced}).
   */
  private static DiskSource open(PullBackup job, String disk, Optional<Checkpoint> base, boolean broken,
      int connections) throws IOException {
    if (!job.disks().contains(disk)) {
      throw new IOException("disk " + disk + " is not exported by the backup job (exported: " + job.disks() + ")");
    }
    Optional<String> bitmap = job.base().isPresent() && !job.fullDisks().contains(disk)
        ? bitmapOf(base, disk) : Optional.empty();
    NbdExport export = NbdExport.open(job.endpoint(disk),
        bitmap.isPresent() ? List.of(PullBackup.dirtyBitmap(disk)) : List.of(), connections);
    return new LiveDisk(export, disk, bitmap, broken ? bitmapOf(base, disk) : Optional.empty());
  }

  /** The bitmap that tracks {@code disk} in checkpoint {@code c}, when it does. */
  private static Optional<String> bitmapOf(Optional<Checkpoint> c, String disk) {
    return c.flatMap(b -> b.disk(disk))
        .filter(d -> d.type() == CheckpointType.BITMAP)
        .map(d -> d.bitmap().orElse(c.get().name()));
  }

  /**
   * Whether libvirt refused a backup job for a checkpoint whose bitmaps are inconsistent
   * ({@code VIR_ERR_CHECKPOINT_INCONSISTENT}: "checkpoint inconsistent: missing or broken bitmap").
   */
  private static boolean inconsistentCheckpoint(LibvirtBackupException e) {
    return e.getCause() instanceof LibvirtException l
        && (l.getError() != null && l.getError().getCode() == org.libvirt.Error.ErrorNumber.VIR_ERR_CHECKPOINT_INCONSISTENT
            || String.valueOf(l.getMessage()).contains("checkpoint inconsistent"));
  }

  /** The domain's checkpoints as libvirt has them (without their domains), by name. */
  private static Map<String, Checkpoint> checkpoints(Domain domain, String domainName)
      throws IOException, CheckpointXmlException {
    Map<String, Checkpoint> out = new HashMap<>();
    DomainCheckpoint[] all = call(domainName, "list the checkpoints", () -> domain.listAllCheckpoints(0));
    for (DomainCheckpoint c : all) {
      String xml = call(domainName, "read a checkpoint", () -> c.getXMLDesc(CHECKPOINT_XML_NO_DOMAIN));
      Checkpoint parsed = CheckpointXml.parse(xml.getBytes(StandardCharsets.UTF_8), domainName + " checkpoint (libvirt)",
          EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN));
      out.put(parsed.name(), parsed);
    }
    return out;
  }

  /** The newest checkpoint libvirt has whose backup the repository holds. */
  private Optional<String> base(String domainName, Map<String, Checkpoint> known) throws IOException {
    List<Checkpoint> newestFirst = known.values().stream()
        .sorted(Comparator.comparingLong(Checkpoint::creationTime).reversed().thenComparing(Checkpoint::name))
        .toList();
    for (Checkpoint c : newestFirst) {
      if (repository.backupOf(domainName, c.name()).isPresent()) {
        return Optional.of(c.name());
      }
    }
    return Optional.empty();
  }

  /**
   * {@code tidemark-YYYYMMDDTHHMMSSZ} and {@code suffix}, with {@code -N} put before the suffix when
   * libvirt has that name already or the repository holds a backup of it.
   */
  private String newName(Set<String> taken, String domainName, String suffix) throws IOException {
    String stem = CHECKPOINT_PREFIX + STAMP.format(Instant.now());
    String name = stem + suffix;
    for (int i = 2; taken.contains(name) || repository.backupOf(domainName, name).isPresent(); i++) {
      name = stem + "-" + i + suffix;
    }
    return name;
  }

  private Domain lookup(String name) throws IOException {
    return call(name, "find the domain", () -> connection.domainLookupByName(name));
  }

}
