package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.DiskPlan;
import org.tidemark.backup.Progress;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.disk.Extent;
import org.tidemark.model.Checkpoint;
import org.tidemark.nbd.NbdExport;
import org.tidemark.qcow2.Qemu;
import org.tidemark.xml.CheckpointXml;

/**
 * A running two-disk domain in a real libvirtd, backed up through pull-mode backup jobs: a full,
 * then an incremental since it. Ground truth per point: what {@code qemu-img convert} reads from the
 * job's own export while the job runs (the disks frozen at the checkpoint), and the dirty extents
 * {@code nbdinfo --map} reads from it. Guest writes made during a job must not reach its backup;
 * each job is ended and its scratch files removed.
 */
@Timeout(600)
class LivePullBackupTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void fullThenIncrementalOfARunningDomainRestoreToWhatTheExportsHeld() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Path vdb = dir.resolve("vdb.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vdb.toString(), "32M");
    String name = libvirt.startDomain("tm-live-", List.of(vda, vdb), dir);
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-job");
    Connect conn = new Connect(libvirt.uri());
    try {
      Domain domain = conn.domainLookupByName(name);
      libvirt.guestWrite(name, 0, "write -P 0xb2 5M 64k");
      libvirt.guestWrite(name, 0, "write -P 0x3c 20M 3M");
      libvirt.guestWrite(name, 1, "write -P 0x17 1M 1M");
      Repository repo = Repository.at(dir.resolve("repo"));

      Checkpoint cp1;
      try (PullBackup job = PullBackup.begin(domain, "cp1", Optional.empty(), List.of("vda", "vdb"), work)) {
        exportCopy(job, "vda", dir.resolve("cp1-vda.raw"));
        exportCopy(job, "vdb", dir.resolve("cp1-vdb.raw"));
        libvirt.guestWrite(name, 0, "write -P 0xee 5M 64k"); // during the job: not in this backup
        cp1 = CheckpointXml.parse(job.checkpointXml().getBytes(StandardCharsets.UTF_8), "cp1", Set.of());
        BackupResult full = backup(repo, job, cp1, Map.of(), Optional.empty());
        for (DiskPlan d : full.plan().disks()) {
          assertEquals(DiskDecision.NO_BASE_BACKUP, d.decision(), d.toString());
        }
        assertEquals(List.of(), ArchiveVerifier.verify(full.archive()));
      }
      assertJobEnded(libvirt, name, work);

      libvirt.guestWrite(name, 0, "write -P 0xc3 7M 128k");
      libvirt.guestWrite(name, 1, "write -z 1M 64k");
      try (PullBackup job = PullBackup.begin(domain, "cp2", Optional.of("cp1"), List.of("vda", "vdb"), work)) {
        exportCopy(job, "vda", dir.resolve("cp2-vda.raw"));
        exportCopy(job, "vdb", dir.resolve("cp2-vdb.raw"));
        List<Extent> qemuDirty = nbdinfoDirty(job, "vda");
        try (NbdExport e = NbdExport.open(job.endpoint("vda"), List.of(PullBackup.dirtyBitmap("vda")), 1)) {
          assertEquals(qemuDirty, e.dirtyExtents(List.of(PullBackup.dirtyBitmap("vda"))));
        }
        // the writes since cp1: 0xee at 5M during the first job, 0xc3 at 7M
        assertEquals(List.of(new Extent(5 << 20, 64 << 10, false), new Extent(7 << 20, 128 << 10, false)), qemuDirty);
        libvirt.guestWrite(name, 1, "write -P 0x99 2M 64k"); // during the job again
        Checkpoint cp2 = CheckpointXml.parse(job.checkpointXml().getBytes(StandardCharsets.UTF_8), "cp2", Set.of());
        assertEquals(Optional.of("cp1"), cp2.parentName());
        BackupResult inc = backup(repo, job, cp2, Map.of("cp1", cp1), Optional.of("cp1"));
        for (DiskPlan d : inc.plan().disks()) {
          assertEquals(DiskDecision.INCREMENTAL, d.decision(), d.toString());
        }
        assertTrue(inc.disks().get(0).bytesRead() <= 192 << 10, "only the changed blocks: " + inc.disks().get(0));
        assertEquals(List.of(), ArchiveVerifier.verify(inc.archive()));
      }
      assertJobEnded(libvirt, name, work);

      for (String point : List.of("cp1", "cp2")) {
        Path out = dir.resolve("restore-" + point);
        new RestoreRunner(repo).run(RestoreRequest.builder(name).checkpoint(point).build(), RestoreTarget.folder(out, false),
            Progress.NONE);
        for (String disk : List.of("vda", "vdb")) {
          Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "raw", out.resolve(disk + ".raw").toString(),
              dir.resolve(point + "-" + disk + ".raw").toString());
        }
      }
    } finally {
      libvirt.removeDomain(name);
      conn.close();
    }
  }

  private static BackupResult backup(Repository repo, PullBackup job, Checkpoint y, Map<String, Checkpoint> known,
      Optional<String> baseBitmap) throws Exception {
    List<String> contexts = baseBitmap.isPresent() ? null : List.of();
    BackupRequest request = BackupRequest.builder(y, disk -> {
          NbdExport e = NbdExport.open(job.endpoint(disk),
              contexts != null ? contexts : List.of(PullBackup.dirtyBitmap(disk)), 2);
          return new LiveDisk(e, disk, baseBitmap);
        }).knownCheckpoints(known).toolVersion("test").build();
    return new BackupRunner(repo).run(request, Progress.NONE);
  }

  /** QEMU's own copy of an export, as the ground truth of the disk at the job's checkpoint. */
  private static void exportCopy(PullBackup job, String disk, Path to) throws Exception {
    Qemu.run("qemu-img", "convert", "-f", "raw", "-O", "raw", job.endpoint(disk).uri(), to.toString());
  }

  private static List<Extent> nbdinfoDirty(PullBackup job, String disk) throws Exception {
    JsonNode map = JSON.readTree(Qemu.run("nbdinfo", "--json", "--map=qemu:dirty-bitmap:" + PullBackup.dirtyBitmap(disk),
        job.endpoint(disk).uri()));
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : map) {
      if ((e.get("type").asLong() & 1) != 0) {
        out.add(new Extent(e.get("offset").asLong(), e.get("length").asLong(), false));
      }
    }
    return out;
  }

  private static void assertJobEnded(LibvirtSandbox libvirt, String domain, Path work) throws Exception {
    String job = libvirt.virsh("domjobinfo", domain);
    assertTrue(job.contains("None"), "no job left: " + job);
    try (Stream<Path> s = Files.list(work)) {
      assertEquals(List.of(), s.toList(), "scratch files and socket removed");
    }
    assertFalse(libvirt.virsh("checkpoint-list", domain, "--name").isBlank());
  }
}
