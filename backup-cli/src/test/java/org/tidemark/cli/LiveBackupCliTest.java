package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.libvirt.PullBackup;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark backup --domain} against a real libvirtd running a two-disk domain: a full, then
 * an incremental that Tidemark bases on its own newest backed-up checkpoint, beside a checkpoint of
 * another tool; a backup job a killed run left is ended by the next run; a shut-off domain is
 * backed up from its image files. Ground truth for the restored disks: the qcow2 images themselves
 * after the domain is shut down (QEMU flushes them), compared by {@code qemu-img compare}.
 */
@Timeout(600)
class LiveBackupCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void fullThenIncrementalOfARunningDomainThenRestoreEqualsTheDisks() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Path vdb = dir.resolve("vdb.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vdb.toString(), "32M");
    String name = libvirt.startDomain("tm-cli-", List.of(vda, vdb), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try {
      libvirt.guestWrite(name, 0, "write -P 0xb2 5M 64k");
      libvirt.guestWrite(name, 1, "write -P 0x17 1M 1M");
      Cli.Result full = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.OK, full.code(), full.toString());
      JsonNode f = JSON.readTree(full.out());
      assertEquals("full", f.get("kind").asText());
      String cp1 = f.get("checkpoint").asText();
      assertTrue(cp1.startsWith("tidemark-"), cp1);
      for (JsonNode d : f.get("disks")) {
        assertEquals("no-base-backup", d.get("decision").asText(), d.toString());
        assertTrue(d.get("source").asText().startsWith("nbd+unix:///" + d.get("disk").asText() + "?socket="), d.toString());
      }

      // another tool's checkpoint after ours: Tidemark's base stays its own, libvirt merges the bitmaps
      libvirt.guestWrite(name, 0, "write -P 0xc3 7M 128k");
      libvirt.virsh("checkpoint-create-as", name, "foreign-1");
      libvirt.guestWrite(name, 1, "write -P 0x44 3M 64k");
      // a job left by a killed run: begun, never ended
      Connect conn = new Connect(libvirt.uri());
      try {
        var domain = conn.domainLookupByName(name);
        PullBackup.begin(domain, "tidemark-killed", Optional.empty(), List.of("vda", "vdb"),
            work.resolve("job-" + domain.getUUIDString()));
      } finally {
        conn.close();
      }
      Thread.sleep(1100); // the checkpoint names are stamped to the second
      Cli.Result inc = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.OK, inc.code(), inc.toString());
      JsonNode i = JSON.readTree(inc.out());
      assertEquals("incremental", i.get("kind").asText(), inc.toString());
      assertEquals(cp1, i.get("base").asText());
      for (JsonNode d : i.get("disks")) {
        assertEquals("incremental", d.get("decision").asText(), d.toString());
        assertTrue(d.get("bytesRead").asLong() <= 192 << 10, "only what changed: " + d);
      }
      List<String> left = List.of(libvirt.virsh("checkpoint-list", name, "--name").strip().split("\\s+"));
      assertTrue(left.contains("foreign-1"), "the other tool's checkpoint is kept: " + left);
      assertTrue(left.contains(i.get("checkpoint").asText()), "the new one is kept: " + left);
      assertFalse(left.contains(cp1) || left.contains("tidemark-killed"), "Tidemark's older ones rotated out: " + left);
      assertEquals(2, left.size(), left.toString());
      assertTrue(libvirt.virsh("domjobinfo", name).contains("None"), "no job left running");
      try (Stream<Path> s = Files.walk(work)) {
        assertEquals(List.of(), s.filter(Files::isRegularFile).toList(), "scratch files and sockets removed");
      }

      Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
      assertEquals(ExitCodes.OK, verify.code(), verify.toString());
      libvirt.virsh("destroy", name); // QEMU flushes the images: the disks as at the last backup
      Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--to",
          dir.resolve("out").toString());
      assertEquals(ExitCodes.OK, restore.code(), restore.toString());
      Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", dir.resolve("out/vda.raw").toString(), vda.toString());
      Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", dir.resolve("out/vdb.raw").toString(), vdb.toString());

      // shut off, nothing written since: an incremental read from the image files, empty
      Cli.Result off = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.OK, off.code(), off.toString());
      JsonNode o = JSON.readTree(off.out());
      assertEquals("shut off", o.get("domainState").asText(), off.toString());
      assertEquals(i.get("checkpoint").asText(), o.get("base").asText(), off.toString());
      for (JsonNode d : o.get("disks")) {
        assertEquals("incremental", d.get("decision").asText(), d.toString());
        assertEquals(0, d.get("bytesRead").asLong(), d.toString());
      }
    } finally {
      libvirt.removeDomain(name);
    }
  }

  /**
   * QEMU killed: its bitmaps were never saved, and libvirt refuses every incremental since the old
   * checkpoints ("checkpoint inconsistent: missing or broken bitmap"; virtnbdbackup stops there).
   * The next backup takes a full with the reason bitmap-in-use (exit 6), the one after it is
   * incremental again, the broken checkpoint is gone from libvirt, and every point restores.
   */
  @Test
  void aKilledQemuBreaksTheChainAndTheNextBackupRepairsIt() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    String name = libvirt.startDomain("tm-kill-", List.of(vda), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try {
      libvirt.guestWrite(name, 0, "write -P 0x21 2M 1M");
      Cli.Result first = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.OK, first.code(), first.toString());
      String cp1 = JSON.readTree(first.out()).get("checkpoint").asText();
      libvirt.guestWrite(name, 0, "write -P 0x22 9M 64k");

      assertEquals(0, LibvirtSandbox.run(List.of("pkill", "-9", "-f", "guest=" + name + ","), 30).exit(), "QEMU killed");
      for (int i = 0; i < 100 && libvirt.virsh("domstate", name).contains("running"); i++) {
        Thread.sleep(100);
      }
      libvirt.virsh("start", name);
      libvirt.guestWrite(name, 0, "write -P 0x23 12M 64k");
      Thread.sleep(1100); // checkpoint names are stamped to the second
      Cli.Result repaired = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.PARTIAL, repaired.code(), repaired.toString());
      JsonNode r = JSON.readTree(repaired.out());
      assertEquals("full", r.get("kind").asText(), repaired.toString());
      JsonNode d = r.get("disks").get(0);
      assertEquals("bitmap-in-use", d.get("decision").asText(), d.toString());
      assertTrue(d.get("reason").asText().contains(cp1), d.toString());

      libvirt.guestWrite(name, 0, "write -P 0x24 20M 64k");
      Thread.sleep(1100);
      Cli.Result next = backup(libvirt, repo, work, name);
      assertEquals(ExitCodes.OK, next.code(), next.toString());
      JsonNode n = JSON.readTree(next.out());
      assertEquals("incremental", n.get("kind").asText(), next.toString());
      assertEquals(r.get("checkpoint").asText(), n.get("base").asText());
      List<String> left = List.of(libvirt.virsh("checkpoint-list", name, "--name").strip().split("\\s+"));
      assertEquals(List.of(n.get("checkpoint").asText()), left, "the broken and the older checkpoints are gone");

      libvirt.virsh("destroy", name);
      Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--to",
          dir.resolve("out").toString());
      assertEquals(ExitCodes.OK, restore.code(), restore.toString());
      Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", dir.resolve("out/vda.raw").toString(), vda.toString());
      assertEquals(ExitCodes.OK, Cli.run("verify", "--repo", repo.toString()).code());
    } finally {
      libvirt.removeDomain(name);
    }
  }

  /**
   * --quiesce with no guest agent (these domains run no OS): a warning and the JSON say the file
   * systems were not frozen, and the backup goes on; --quiesce=required refuses with exit 10 before
   * libvirt makes a checkpoint or Tidemark an archive. (Freezing through a real agent:
   * GuestAgentQuiesceCliTest.)
   */
  @Test
  void quiesceWithoutAGuestAgentWarnsOrRefusesAsAsked() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    String name = libvirt.startDomain("tm-q-", List.of(vda), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try {
      Cli.Result tried = backup(libvirt, repo, work, name, "--quiesce");
      assertEquals(ExitCodes.OK, tried.code(), tried.toString());
      JsonNode q = JSON.readTree(tried.out()).get("quiesce");
      assertTrue(q.get("requested").asBoolean(), q.toString());
      assertFalse(q.get("frozen").asBoolean(), q.toString());
      assertTrue(q.get("fileSystems").isNull(), q.toString());
      assertTrue(q.get("problem").asText().contains("guest agent"), q.toString());

      String before = libvirt.virsh("checkpoint-list", name, "--name");
      Thread.sleep(1100);
      Cli.Result required = backup(libvirt, repo, work, name, "--quiesce=required");
      assertEquals(ExitCodes.QUIESCE_FAILED, required.code(), required.toString());
      assertFalse(required.err().strip().contains("\n"), required.toString());
      assertTrue(required.err().contains("nothing was done"), required.toString());
      assertEquals(before, libvirt.virsh("checkpoint-list", name, "--name"), "no checkpoint made");
      assertEquals(1, Cli.run("list", "--repo", repo.toString(), "--json").out().split("\"checkpoint\"", -1).length - 1,
          "no archive made");

      Cli.Result text = backup(libvirt, repo, work, name, "--quiesce=try");
      assertEquals(ExitCodes.OK, text.code(), text.toString());
    } finally {
      libvirt.removeDomain(name);
    }
  }

  /**
   * The backup job's NBD server on TCP (as for a libvirt on another host; here on the loopback
   * address): full then incremental read over TCP, restore equal to the disk. A remote --connect
   * without --nbd-tcp is a usage error naming the option.
   */
  @Test
  void overTcpTheExportsAreReadFromTheHostAndPortGiven() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    String name = libvirt.startDomain("tm-tcp-", List.of(vda), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    String tcp = "127.0.0.1:" + port;
    try {
      libvirt.guestWrite(name, 0, "write -P 0x31 3M 1M");
      Cli.Result full = backup(libvirt, repo, work, name, "--nbd-tcp", tcp);
      assertEquals(ExitCodes.OK, full.code(), full.toString());
      assertEquals("nbd://" + tcp + "/vda", JSON.readTree(full.out()).get("disks").get(0).get("source").asText());
      libvirt.guestWrite(name, 0, "write -P 0x32 30M 64k");
      Thread.sleep(1100);
      Cli.Result inc = backup(libvirt, repo, work, name, "--nbd-tcp", tcp);
      assertEquals(ExitCodes.OK, inc.code(), inc.toString());
      JsonNode d = JSON.readTree(inc.out()).get("disks").get(0);
      assertEquals("incremental", d.get("decision").asText(), d.toString());
      assertEquals(65536, d.get("bytesRead").asLong(), d.toString());
      assertTrue(libvirt.virsh("domjobinfo", name).contains("None"));
      libvirt.virsh("destroy", name);
      Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--to",
          dir.resolve("out").toString());
      assertEquals(ExitCodes.OK, restore.code(), restore.toString());
      Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", dir.resolve("out/vda.raw").toString(), vda.toString());

      Cli.Result remote = Cli.run("backup", "--repo", repo.toString(), "--domain", name, "--connect",
          "qemu+ssh://backup-host.example/system");
      assertEquals(ExitCodes.USAGE, remote.code(), remote.toString());
      assertTrue(remote.err().contains("give --nbd-tcp HOST:PORT"), remote.toString());
    } finally {
      libvirt.removeDomain(name);
    }
  }

  private static Cli.Result backup(LibvirtSandbox libvirt, Path repo, Path work, String domain, String... more) {
    List<String> args = new ArrayList<>(List.of("backup", "--repo", repo.toString(), "--domain", domain, "--connect",
        libvirt.uri(), "--work-dir", work.toString(), "--json"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }
}
