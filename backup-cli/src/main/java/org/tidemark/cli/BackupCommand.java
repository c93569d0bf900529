package org.tidemark.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupAbortedException;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.DiskPlan;
import org.tidemark.disk.DiskSource;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.DomainDisk;
import org.tidemark.xml.CheckpointSet;
import org.tidemark.xml.CheckpointXmlException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tidemark backup}: one archive for a checkpoint, incremental where the bitmaps allow. */
@Command(name = "backup", mixinStandardHelpOptions = true,
    description = {"Back up the disks of a domain at a checkpoint into the repository.",
        "Incremental since the newest ancestor checkpoint the repository holds, per disk, when its bitmaps allow;",
        "otherwise full, with the reason (exit code 6 when a disk fell back to full)."})
final class BackupCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @Option(names = "--checkpoint", paramLabel = "FILE",
      description = "Offline: the checkpoint being backed up, with its <domain> (virsh checkpoint-dumpxml); "
          + "the disks are read from their image files.")
  String checkpoint;

  @Option(names = "--domain", paramLabel = "NAME",
      description = {"Through libvirt: back up the domain NAME. Running: Tidemark creates the checkpoint with a "
          + "pull-mode backup job and reads each disk over NBD (needs libvirt0 and libnbd0). Shut off: the changes "
          + "since Tidemark's newest checkpoint are read from the image files, with the bitmaps QEMU saved at shutdown."})
  String domain;

  @Option(names = "--connect", paramLabel = "URI", defaultValue = "qemu:///system",
      description = "With --domain: the libvirt connection (default: ${DEFAULT-VALUE}).")
  String connect;

  @Option(names = "--work-dir", paramLabel = "DIR", defaultValue = "/var/tmp/tidemark",
      description = "With --domain: where backup jobs keep their NBD socket and scratch files (default: ${DEFAULT-VALUE}).")
  Path workDir;

  @Option(names = "--keep-checkpoints", paramLabel = "N", defaultValue = "0",
      description = {"With --domain: keep N of Tidemark's older checkpoints in libvirt besides the new one (default: "
          + "${DEFAULT-VALUE}; each costs a bitmap per disk in QEMU). Other tools' checkpoints are never deleted."})
  int keepCheckpoints;

  @Option(names = "--quiesce", paramLabel = "try|required", arity = "0..1", fallbackValue = "try",
      description = {"With --domain: freeze the guest's file systems through the guest agent while the backup's point "
          + "in time is taken. 'try' (the default of the bare option): without an agent answering, warn and go on; "
          + "'required': refuse (exit 10) before anything is done."})
  String quiesce;

  @Option(names = "--nbd-tcp", paramLabel = "HOST:PORT",
      description = {"With --domain: the backup job's NBD server listens on TCP at HOST:PORT (an address of the "
          + "libvirt host that this machine reaches) instead of a local Unix socket: needed for a remote libvirt "
          + "(--connect qemu+ssh://HOST/system); --work-dir then names a folder on that host, for QEMU's scratch "
          + "files. Not encrypted: use a trusted network."})
  String nbdTcp;

  @Option(names = "--checkpoint-dir", paramLabel = "DIR",
      description = "The domain's other checkpoints, one XML file each (to find the base of an increment).")
  Path checkpointDir;

  @Option(names = "--disk", paramLabel = "NAME=PATH", description = "Read disk NAME from PATH instead of the domain's source.")
  Map<String, Path> diskPaths = new LinkedHashMap<>();

  @Option(names = "--allow-backing", paramLabel = "PATH",
      description = {"Offline: a backing file (or a folder of them) the disk images may name outside their own folder, "
          + "besides the chain the domain XML declares in <backingStore>; others are refused."})
  List<Path> allowBacking = new ArrayList<>();

  @Option(names = "--exclude-disk", paramLabel = "NAME", description = "Do not back up disk NAME.")
  List<String> excluded = new ArrayList<>();

  @Option(names = "--full", description = "Copy every disk in full.")
  boolean full;

  @Mixin WriterOptions writer;

  @Mixin OutputOptions output;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Per disk, the backing files its image may lead to. */
  private final Map<String, org.tidemark.qcow2.BackingPolicy> backing = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    java.time.Duration lockWait = writer.lockWait(spec.commandLine());
    Codec codec = writer.codec(spec.commandLine());
    if ((checkpoint == null) == (domain == null)) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "give --checkpoint FILE (offline, from the disk images) or --domain NAME (live, through libvirt)");
    }
    if (domain != null) {
      if (keepCheckpoints < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--keep-checkpoints " + keepCheckpoints
            + ": expected 0 or more");
      }
      if (checkpointDir != null || !diskPaths.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--checkpoint-dir and --disk go with --checkpoint; a live backup asks libvirt");
      }
      org.tidemark.libvirt.LiveBackupRunner.Quiesce q;
      if (quiesce == null) {
        q = org.tidemark.libvirt.LiveBackupRunner.Quiesce.OFF;
      } else if (quiesce.equals("try") || quiesce.equals("required")) {
        q = quiesce.equals("try") ? org.tidemark.libvirt.LiveBackupRunner.Quiesce.TRY
            : org.tidemark.libvirt.LiveBackupRunner.Quiesce.REQUIRED;
      } else {
        throw new CommandLine.ParameterException(spec.commandLine(), "--quiesce=" + quiesce + ": expected try or required");
      }
      java.util.Optional<org.tidemark.libvirt.PullBackup.Tcp> tcp = java.util.Optional.empty();
      if (nbdTcp != null) {
        int colon = nbdTcp.lastIndexOf(':');
        try {
          tcp = java.util.Optional.of(new org.tidemark.libvirt.PullBackup.Tcp(nbdTcp.substring(0, Math.max(0, colon)),
              Integer.parseInt(nbdTcp.substring(colon + 1))));
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--nbd-tcp " + nbdTcp + ": expected HOST:PORT");
        }
        if (tcp.get().host().isEmpty()) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--nbd-tcp " + nbdTcp + ": expected HOST:PORT");
        }
      } else if (org.tidemark.libvirt.LiveBackupRunner.isRemote(connect)) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--connect " + connect + " is another host: its "
            + "backup job cannot offer a Unix socket here; give --nbd-tcp HOST:PORT (an address of that host)");
      }
      LiveBackupCommand.Outcome live = new LiveBackupCommand(repo, domain, connect, workDir, full, Set.copyOf(excluded),
          codec, lockWait, keepCheckpoints, q, tcp)
          .run(TerminalProgress.forOptions(output));
      Map<String, Object> quiesced = new LinkedHashMap<>();
      quiesced.put("requested", q != org.tidemark.libvirt.LiveBackupRunner.Quiesce.OFF);
      quiesced.put("frozen", live.quiesced());
      // how many file systems the guest agent froze, as it answered
      quiesced.put("fileSystems", live.frozenFileSystems().isPresent() ? live.frozenFileSystems().getAsInt() : null);
      quiesced.put("problem", live.quiesceProblem().orElse(null));
      if (!output.json && live.quiesceProblem().isPresent()) {
        spec.commandLine().getErr().println("tidemark: warning: " + Printable.escape(live.quiesceProblem().get())
            + "; backed up without (crash-consistent disks)");
      }
      Map<String, Object> extra = new LinkedHashMap<>();
      extra.put("domainState", live.shutOff() ? "shut off" : "running");
      extra.put("quiesce", quiesced);
      Map<String, Object> chainBreak = null;
      if (live.chainBreak().isPresent()) {
        chainBreak = new LinkedHashMap<>();
        chainBreak.put("code", live.chainBreak().get().code());
        chainBreak.put("detail", live.chainBreak().get().detail());
        if (!output.json) {
          spec.commandLine().getErr().println("tidemark: warning: the chain starts again with a full backup ("
              + live.chainBreak().get().code() + "): " + Printable.escape(live.chainBreak().get().detail()));
        }
      }
      extra.put("chainBreak", chainBreak);
      int code = live.result().plan().fallbacks().isEmpty() && live.chainBreak().isEmpty() ? ExitCodes.OK
          : ExitCodes.PARTIAL;
      report(live.result(), live.sources(), extra, List.of(), code);
      return code;
    }
    CheckpointFiles files = new CheckpointFiles();
    Checkpoint y = files.read(checkpoint, false);
    Map<String, Checkpoint> known = checkpointDir == null ? Map.of() : readCheckpointDir(files, checkpointDir, y, checkpoint);
    for (String d : diskPaths.keySet()) {
      if (y.domain().orElseThrow().disk(d).isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--disk " + d + ": the domain has no disk " + d);
      }
    }
    // backing files: those in each image's folder, the chain libvirt declared, and what the user allows
    for (DomainDisk d : y.domain().orElseThrow().disks()) {
      List<Path> allowed = new ArrayList<>(allowBacking);
      for (String b : org.tidemark.xml.DomainXml.backingChain(y.domain().orElseThrow(), d.target())) {
        allowed.add(Path.of(b));
      }
      backing.put(d.target(), org.tidemark.qcow2.BackingPolicy.allowing(allowed));
    }
    BackupRequest request = BackupRequest.builder(y, disk -> open(y, disk)).knownCheckpoints(known).exclude(excluded)
        .copyMode(full ? BackupRequest.CopyMode.FULL : BackupRequest.CopyMode.INCREMENTAL_WHERE_POSSIBLE).codec(codec)
        .toolVersion(Main.Version.version()).build();
    files.startHostValidation();
    BackupResult result;
    Repository repository = Repository.at(repo);
    try {
      result = new BackupRunner(repository, EngineSettings.options(lockWait)).run(request, TerminalProgress.forOptions(output),
          files::awaitHostValidation);
    } catch (BackupAbortedException e) {
      throw e.getCause() instanceof Exception cause ? cause : e; // a checkpoint libvirt's grammar refuses
    } catch (java.nio.file.FileAlreadyExistsException e) {
      // backup has no --force: an archive is never replaced (later incrementals name it as their parent)
      throw new CliFailure(ExitCodes.WOULD_OVERWRITE, e.getFile() + ": the repository already has a backup of checkpoint '"
          + y.name() + "'; a checkpoint is backed up once (its archive is never replaced: later incrementals may depend on"
          + " it): create a new checkpoint for a new backup", e.getFile());
    }
    int code = result.plan().fallbacks().isEmpty() ? ExitCodes.OK : ExitCodes.PARTIAL;
    report(result, Map.of(), Map.of(), incrementalHint(repository, result), code);
    return code;
  }

  private DiskSource open(Checkpoint y, String disk) throws IOException {
    DomainDisk d = y.domain().orElseThrow().disk(disk).orElseThrow();
    Path path = diskPaths.get(disk);
    if (path == null) {
      path = Path.of(d.source().orElseThrow(() -> new IOException("disk " + disk + " has no source path")));
    }
    return Images.open(path, d.driverType(), backing.getOrDefault(disk, org.tidemark.qcow2.BackingPolicy.sameTree()));
  }

  /**
   * The domain's other checkpoints: each {@code *.xml} file of {@code dir} read through
   * {@code checkpoints} (so that libvirt's grammar checks it too), checked as a set by the library
   * (names defined once, one domain, parents present, no cycle), and of the domain of {@code self}.
   */
  private static Map<String, Checkpoint> readCheckpointDir(CheckpointFiles checkpoints, Path dir, Checkpoint self,
      String selfFile) throws Exception {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(dir, "*.xml")) {
      listing.forEach(files::add);
    }
    java.util.Collections.sort(files); // the library's order: the same file is named first
    CheckpointSet.Builder set = CheckpointSet.builder();
    for (Path f : files) {
      set.add(f.toString(), checkpoints.read(f.toString(), true));
    }
    CheckpointSet read = set.build();
    String domain = self.domain().orElseThrow().name();
    if (read.domainName().filter(d -> !d.equals(domain)).isPresent()) {
      throw new CheckpointXmlException(dir.toString(), 0, 0, "the checkpoints are of domain '" + read.domainName().get()
          + "', not of domain '" + domain + "' of " + selfFile);
    }
    Map<String, Checkpoint> known = new HashMap<>(read.checkpoints());
    known.remove(self.name());
    return known;
  }

  /**
   * When an offline backup without {@code --checkpoint-dir} fell back to full because Tidemark could
   * not trace the checkpoint's ancestors, while the repository holds earlier backups of the domain:
   * how to get an incremental next time. Empty otherwise.
   */
  private List<String> incrementalHint(Repository repository, BackupResult r) throws IOException {
    boolean untraced = r.plan().disks().stream().anyMatch(p -> p.decision() == DiskDecision.NO_BASE_BACKUP
        || p.decision() == DiskDecision.CHECKPOINT_CHAIN_INCOMPLETE);
    if (checkpointDir != null || !untraced) {
      return List.of();
    }
    String name = r.plan().checkpoint().domain().orElseThrow().name();
    List<String> earlier = repository.scan(name).backups().stream().map(org.tidemark.archive.StoredBackup::checkpoint)
        .filter(c -> !c.equals(r.plan().checkpoint().name())).toList();
    if (earlier.isEmpty()) {
      return List.of();
    }
    return List.of("the repository holds earlier backups of domain '" + name + "' (newest: " + earlier.get(earlier.size() - 1)
        + "), but without --checkpoint-dir only the checkpoint's own parent is known: give --checkpoint-dir DIR (the"
        + " domain's checkpoint XML files; libvirt keeps them in /var/lib/libvirt/qemu/checkpoint/" + name + "/) for an"
        + " incremental backup since the newest ancestor the repository holds");
  }

  /**
   * Prints the result; {@code sources} names where each disk was read from (NBD URIs, or the image
   * files of a shut-off domain); {@code exitCode} is the run's, for the JSON.
   */
  private void report(BackupResult r, Map<String, String> sources, Map<String, Object> extra, List<String> hints,
      int exitCode) {
    List<String> warnings = new ArrayList<>(r.warnings());
    warnings.addAll(hints);
    var out = spec.commandLine().getOut();
    if (output.document()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("archive", r.archive().toString());
      doc.put("domain", r.plan().checkpoint().domain().orElseThrow().name());
      doc.put("checkpoint", r.plan().checkpoint().name());
      doc.put("base", r.plan().base().map(b -> b.checkpoint().name()).orElse(null));
      doc.put("kind", r.plan().isIncremental() ? "incremental" : "full");
      List<Map<String, Object>> disks = new ArrayList<>();
      for (DiskPlan p : r.plan().disks()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("disk", p.disk());
        m.put("kind", p.decision().kind().name().toLowerCase(java.util.Locale.ROOT));
        m.put("decision", p.decision().code());
        m.put("reason", p.reason());
        m.put("fallback", p.decision().isFallback());
        if (sources.containsKey(p.disk())) {
          m.put("source", sources.get(p.disk()));
        }
        r.disks().stream().filter(d -> d.disk().equals(p.disk())).findFirst().ifPresent(d -> {
          m.put("extents", d.extents());
          m.put("bytesRead", d.bytesRead());
          m.put("bytesWritten", d.bytesStored());
          m.put("chunks", d.chunks());
        });
        disks.add(m);
      }
      doc.put("disks", disks);
      doc.put("warnings", warnings);
      doc.putAll(extra);
      doc.put("archiveBytes", r.archiveBytes());
      doc.put("seconds", r.duration().toMillis() / 1000.0);
      output.printResult(spec.commandLine(), "backup", doc, exitCode);
    }
    if (output.json) {
      return;
    }
    for (String w : warnings) {
      spec.commandLine().getErr().println("tidemark: warning: " + Printable.escape(w));
    }
    for (DiskPlan p : r.plan().disks()) {
      if (p.decision().isFallback()) {
        spec.commandLine().getErr().println(Printable.escape("tidemark: warning: disk " + p.disk() + " backed up in full: " + p.reason()));
      }
    }
    if (output.quiet) {
      return;
    }
    out.println(Printable.escape((r.plan().isIncremental() ? "incremental" : "full") + " backup of " + r.plan().checkpoint().name()
        + r.plan().base().map(b -> " since " + b.checkpoint().name()).orElse("") + " -> " + r.archive()
        + " (" + Units.bytes(r.archiveBytes()) + ", " + r.duration().toMillis() / 1000.0 + " s)"));
    for (DiskPlan p : r.plan().disks()) {
      var d = r.disks().stream().filter(x -> x.disk().equals(p.disk())).findFirst();
      out.printf("  %-6s %-11s %s%s%n", Printable.escape(p.disk()), p.decision().kind().name().toLowerCase(java.util.Locale.ROOT),
          d.map(x -> Units.bytes(x.bytesRead()) + " read, " + Units.bytes(x.bytesStored()) + " stored; ").orElse(""),
          Printable.escape(p.decision() == DiskDecision.INCREMENTAL ? p.reason()
              : p.decision().isFallback() ? "fell back to full (the reason is in the warning above)" : p.decision().description()));
    }
    out.flush();
  }
}
