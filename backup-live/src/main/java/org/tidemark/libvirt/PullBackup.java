package org.tidemark.libvirt;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.tidemark.nbd.NbdEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A libvirt pull-mode backup job of a running domain ({@code virDomainBackupBegin}): libvirt creates
 * the new checkpoint together with the job, and exports each disk, frozen at that moment, over NBD
 * on a Unix socket; guest writes made during the job do not reach the export (QEMU keeps the old
 * blocks in a scratch file per disk). With a base checkpoint, each export also offers the context
 * {@code qemu:dirty-bitmap:backup-DISK}: the blocks changed since the base.
 *
 * <p>{@link #close} always ends the job ({@code virDomainAbortJob}, which keeps the checkpoints),
 * and removes the scratch files and the socket: call it on success, failure and interruption.
 *
 * <p>The job's files live in a work folder given by the caller: {@code nbd.sock} and {@code
 * scratch-DISK.qcow2}. Not thread-safe.
 */
public final class PullBackup implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PullBackup.class);
  /** The export's socket in the work folder. */
  static final String SOCKET = "nbd.sock";
  /** How long {@link #close} waits for the aborted job to be gone. */
  private static final long END_WAIT_NANOS = 30_000_000_000L;

  /** Jobs begun and not yet ended, for {@link #endAll} (a shutdown hook on Ctrl-C). */
  private static final java.util.Set<PullBackup> ACTIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Domain domain;
  private final String domainName;
  private final String checkpoint;
  private final Optional<String> base;
  private final List<String> disks;
  private final java.util.Set<String> fullDisks;
  private final Path workDir;
  private final Optional<Tcp> tcp;
  private boolean ended;

  /**
   * An NBD server on TCP instead of the Unix socket: for a libvirt on another host ({@code
   * qemu+ssh://HOST/system}), whose QEMU listens on {@code host:port} of that host. The export is
   * not encrypted: use it on a trusted backup network.
   *
   * @param host the address QEMU listens on, as this machine reaches it
   * @param port the TCP port
   */
  public record Tcp(String host, int port) {
    /** Checks the port. */
    public Tcp {
      Objects.requireNonNull(host, "host");
      if (port <= 0 || port > 65535) {
        throw new IllegalArgumentException("TCP port " + port + " (expected 1 to 65535)");
      }
    }
  }

  private PullBackup(Domain domain, String domainName, String checkpoint, Optional<String> base, List<String> disks,
      java.util.Set<String> fullDisks, Path workDir, Optional<Tcp> tcp) {
    this.tcp = tcp;
    this.fullDisks = java.util.Set.copyOf(fullDisks);
    this.domain = domain;
    this.domainName = domainName;
    this.checkpoint = checkpoint;
    this.base = base;
    this.disks = List.copyOf(disks);
    this.workDir = workDir;
  }

  /**
   * Begins a pull-mode backup job that creates checkpoint {@code checkpoint}.
   *
   * @param disks the disks (targets) to export; the others get {@code backup='no'}
   * @param base the checkpoint an incremental job is since, or empty for a full one
   * @param workDir a folder for the socket and scratch files (created; its path must be short
   *     enough for a Unix socket, 107 bytes)
   * @throws LibvirtBackupException when libvirt refuses the job
   */
  public static PullBackup begin(Domain domain, String checkpoint, Optional<String> base, List<String> disks,
      Path workDir) throws IOException {
    return begin(domain, checkpoint, base, disks, workDir, Optional.empty());
  }

  /**
   * Begins a pull-mode backup job whose NBD server listens on TCP ({@link Tcp}) when given, else on
   * a Unix socket in {@code workDir}. The scratch files are made by QEMU in {@code workDir} on the
   * domain's host: with a remote libvirt, that folder must exist there.
   *
   * @throws LibvirtBackupException when libvirt refuses the job
   */
  public static PullBackup begin(Domain domain, String checkpoint, Optional<String> base, List<String> disks,
      Path workDir, Optional<Tcp> tcp) throws IOException {
    return begin(domain, checkpoint, base, disks, java.util.Set.of(), workDir, tcp);
  }

  /**
   * Begins a pull-mode backup job, incremental since {@code base} for each disk but those of {@code
   * fullDisks}, which the job exports in full ({@code backupmode='full'}: a disk added since the
   * base, or whose image was replaced, has no bitmap of the base, and libvirt refuses an incremental
   * of it: "checkpoint inconsistent: missing or broken bitmap 'BASE' for disk 'vdb'").
   *
   * @throws LibvirtBackupException when libvirt refuses the job
   */
  public static PullBackup begin(Domain domain, String checkpoint, Optional<String> base, List<String> disks,
      java.util.Set<String> fullDisks, Path workDir, Optional<Tcp> tcp) throws IOException {
    Objects.requireNonNull(checkpoint, "checkpoint");
    String name = nameOf(domain);
    Files.createDirectories(workDir);
    Path socket = workDir.resolve(SOCKET).toAbsolutePath();
    if (socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
      throw new IllegalArgumentException("work folder " + workDir + " is too deep for a Unix socket path");
    }
    PullBackup job = new PullBackup(domain, name, checkpoint, base, disks, fullDisks, workDir.toAbsolutePath(), tcp);
    String backupXml = job.backupXml(socket);
    String checkpointXml = "<domaincheckpoint>\n  <name>" + Xml.escape(checkpoint) + "</name>\n</domaincheckpoint>\n";
    try {
      domain.backupBegin(backupXml, checkpointXml, 0);
    } catch (LibvirtException e) {
      job.removeFiles();
      throw new LibvirtBackupException(name, "begin a backup job creating checkpoint '" + checkpoint + "'"
          + base.map(b -> " since '" + b + "'").orElse(""), e);
    }
    ACTIVE.add(job);
    LOG.info("domain {}: backup job begun, checkpoint {}{}{}", name, checkpoint, base.map(b -> " since " + b).orElse(""),
        base.isPresent() && !fullDisks.isEmpty() ? " (in full: " + String.join(", ", new java.util.TreeSet<>(fullDisks)) + ")"
            : "");
    return job;
  }

  private String backupXml(Path socket) {
    StringBuilder b = new StringBuilder("<domainbackup mode='pull'>\n");
    base.ifPresent(x -> b.append("  <incremental>").append(Xml.escape(x)).append("</incremental>\n"));
    if (tcp.isPresent()) {
      b.append("  <server transport='tcp' name='").append(Xml.escape(tcp.get().host())).append("' port='")
          .append(tcp.get().port()).append("'/>\n");
    } else {
      b.append("  <server transport='unix' socket='").append(Xml.escape(socket.toString())).append("'/>\n");
    }
    b.append("  <disks>\n");
    for (String d : disks) {
      b.append("    <disk name='").append(Xml.escape(d)).append("' backup='yes' type='file'")
          .append(base.isPresent() && fullDisks.contains(d) ? " backupmode='full'>\n" : ">\n")
          .append("      <scratch file='").append(Xml.escape(scratch(d).toString())).append("'/>\n")
          .append("    </disk>\n");
    }
    b.append("  </disks>\n</domainbackup>\n");
    return b.toString();
  }

  private Path scratch(String disk) {
    return workDir.resolve("scratch-" + disk + ".qcow2");
  }

  /** The export of {@code disk}: the job's socket, the export named after the disk. */
  public NbdEndpoint endpoint(String disk) {
    if (!disks.contains(disk)) {
      throw new IllegalArgumentException("disk '" + disk + "' is not in the backup job (disks: " + disks + ")");
    }
    return tcp.map(t -> NbdEndpoint.tcp(t.host(), t.port(), disk))
        .orElseGet(() -> NbdEndpoint.unix(workDir.resolve(SOCKET), disk));
  }

  /** The dirty-bitmap context name of {@code disk}'s export in an incremental job: {@code backup-DISK}. */
  public static String dirtyBitmap(String disk) {
    return "backup-" + disk;
  }

  /** The checkpoint this job created. */
  public String checkpoint() {
    return checkpoint;
  }

  /** The checkpoint an incremental job is since. */
  public Optional<String> base() {
    return base;
  }

  /** The disks exported. */
  public List<String> disks() {
    return disks;
  }

  /** The disks an incremental job exports in full: no changes since the base are offered for them. */
  public java.util.Set<String> fullDisks() {
    return fullDisks;
  }

  /**
   * The new checkpoint's XML as libvirt reports it ({@code virDomainCheckpointGetXMLDesc}), with
   * its {@code <domain>}.
   */
  public String checkpointXml() throws IOException {
    try {
      return domain.checkpointLookupByName(checkpoint).getXMLDesc(0);
    } catch (LibvirtException e) {
      throw new LibvirtBackupException(domainName, "read checkpoint '" + checkpoint + "'", e);
    }
  }

  /**
   * Ends every job this process began and has not ended: for a shutdown hook, so that Ctrl-C or
   * SIGTERM during a live backup leaves no job running on the domain and no scratch file. Errors
   * are logged: the process is stopping.
   */
  public static void endAll() {
    for (PullBackup job : List.copyOf(ACTIVE)) {
      try {
        job.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("domain {}: ending the backup job while stopping: {}", job.domainName, e.getMessage());
      }
    }
  }

  /** Ends the job (the checkpoints stay) and removes its scratch files and socket. */
  @Override
  public synchronized void close() throws IOException {
    if (ended) {
      return;
    }
    ended = true;
    ACTIVE.remove(this);
    try {
      domain.abortJob();
      awaitNoJob();
      LOG.info("domain {}: backup job ended", domainName);
    } catch (LibvirtException e) {
      // the job may be gone already (the domain stopped); an error here leaves nothing to undo
      LOG.warn("domain {}: ending the backup job: {}", domainName, e.getMessage());
    } finally {
      removeFiles();
    }
  }

  /**
   * Waits until the domain has no job: libvirt answers the abort before QEMU's block jobs of the
   * backup are gone, and a new job (the next backup) is refused until they are.
   */
  private void awaitNoJob() throws LibvirtException {
    long deadline = System.nanoTime() + END_WAIT_NANOS;
    while (domain.getJobInfo().getType() != 0) { // VIR_DOMAIN_JOB_NONE
      if (System.nanoTime() > deadline) {
        LOG.warn("domain {}: the backup job is still ending after {} s", domainName, END_WAIT_NANOS / 1_000_000_000L);
        return;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void removeFiles() throws IOException {
    for (String d : disks) {
      Files.deleteIfExists(scratch(d));
    }
    Files.deleteIfExists(workDir.resolve(SOCKET));
  }

  private static String nameOf(Domain domain) throws LibvirtBackupException {
    try {
      return domain.getName();
    } catch (LibvirtException e) {
      throw new LibvirtBackupException("?", "read the domain's name", e);
    }
  }

  /** XML attribute and text escaping for the documents this class writes. */
  static final class Xml {
    private Xml() {}

    static String escape(String s) {
      return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;").replace("\"", "&quot;");
    }
  }
}
