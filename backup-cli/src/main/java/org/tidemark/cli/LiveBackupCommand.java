package org.tidemark.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.Progress;
import org.tidemark.libvirt.LiveBackupRunner;

/**
 * The live form of {@code tidemark backup --domain NAME}: connects to libvirt and runs a {@link
 * LiveBackupRunner}. A class of its own so that offline commands never load libvirt's classes (or
 * its native library).
 */
final class LiveBackupCommand {
  /**
   * What the backup did, and each disk's source: an NBD URI, or the image file when the domain was
   * shut off.
   */
  record Outcome(BackupResult result, Map<String, String> sources, LiveBackupRunner.Quiesce quiesce, boolean quiesced,
      java.util.OptionalInt frozenFileSystems, java.util.Optional<String> quiesceProblem, boolean shutOff,
      java.util.Optional<LiveBackupRunner.ChainBreak> chainBreak) {}

  private final Path repo;
  private final String domain;
  private final String uri;
  private final Path workDir;
  private final boolean full;
  private final Set<String> excluded;
  private final Codec codec;
  private final Duration lockWait;
  private final int keepCheckpoints;
  private final LiveBackupRunner.Quiesce quiesce;
  private final java.util.Optional<org.tidemark.libvirt.PullBackup.Tcp> tcp;

  LiveBackupCommand(Path repo, String domain, String uri, Path workDir, boolean full, Set<String> excluded, Codec codec,
      Duration lockWait, int keepCheckpoints, LiveBackupRunner.Quiesce quiesce,
      java.util.Optional<org.tidemark.libvirt.PullBackup.Tcp> tcp) {
    this.tcp = tcp;
    this.keepCheckpoints = keepCheckpoints;
    this.quiesce = quiesce;
    this.repo = repo;
    this.domain = domain;
    this.uri = uri;
    this.workDir = workDir;
    this.full = full;
    this.excluded = excluded;
    this.codec = codec;
    this.lockWait = lockWait;
  }

  Outcome run(Progress progress) throws Exception {
    Connect connection = LibvirtConnections.open(uri);
    // Ctrl-C or SIGTERM: end the backup job (libvirt keeps it otherwise, with QEMU's scratch files)
    Thread endJobs = new Thread(org.tidemark.libvirt.PullBackup::endAll, "tidemark-end-backup-job");
    Runtime.getRuntime().addShutdownHook(endJobs);
    try {
      LiveBackupRunner.Result r = new LiveBackupRunner(Repository.at(repo), connection, EngineSettings.options(lockWait)).run(domain,
          new LiveBackupRunner.Options(full, excluded, codec, lockWait, workDir, 4, keepCheckpoints,
              quiesce, tcp, Main.Version.version()), progress);
      return new Outcome(r.backup(), r.exports(), quiesce, r.quiesced(), r.frozenFileSystems(), r.quiesceProblem(),
          r.shutOff(), r.chainBreak());
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(endJobs);
      } catch (IllegalStateException e) {
        // stopping already: the hook runs
      }
      try {
        connection.close();
      } catch (LibvirtException e) {
        // closing a connection that failed: nothing to undo
      }
    }
  }
}
