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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.libvirt.AgentGuest;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark backup --domain --quiesce} against a real guest agent: a tiny Linux guest ({@link
 * AgentGuest}) whose ext4 data disk holds files written without a sync (periodic writeback off):
 * they are in the guest's page cache only, and only a freeze puts them on the disk.
 *
 * <p>Ground truth from outside: e2fsprogs read the restored disks ({@code debugfs} for the files,
 * {@code dumpe2fs} for the journal's needs_recovery flag, {@code e2fsck -n}); the agent's log and
 * its fsfreeze hook's lines on the guest's serial console; and the disk itself after the guest is
 * stopped, which differs from the last quiesced backup only in the ext4 superblock (the thaw sets
 * needs_recovery again and rewrites it).
 */
@Timeout(600)
class GuestAgentQuiesceCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MARKER = "tidemark-unsynced-marker\n";
  /** The primary ext4 superblock: bytes 1024 to 2047 of the file system. */
  private static final long SUPERBLOCK = 1024;

  @TempDir Path dir;

  @Test
  void frozenByTheAgentTheBackupHoldsWhatTheGuestHadNotSynced() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    Path restored;
    try (AgentGuest guest = AgentGuest.start(libvirt, "tm-gacli-", dir)) {
      // crash-consistent (no --quiesce): the marker the guest wrote at boot is not on the disk yet
      Cli.Result plain = backup(libvirt, repo, work, guest.name(), "--json");
      assertEquals(ExitCodes.OK, plain.code(), plain.toString());
      Path crash = restore(repo, guest.name(), "out-plain");
      assertEquals("", ext4File(crash, "/marker"), "unsynced data is not in a crash-consistent backup");
      assertTrue(ext4Header(crash).contains("needs_recovery"), "the journal is in use: " + ext4Header(crash));

      int mark = guest.consoleLog().length();
      Thread.sleep(1100); // checkpoint names are stamped to the second
      Cli.Result required = backup(libvirt, repo, work, guest.name(), "--json", "--quiesce=required");
      assertEquals(ExitCodes.OK, required.code(), required.toString());
      assertFalse(required.err().contains("warning"), required.toString());
      JsonNode q = JSON.readTree(required.out()).get("quiesce");
      assertTrue(q.get("requested").asBoolean(), q.toString());
      assertTrue(q.get("frozen").asBoolean(), q.toString());
      assertTrue(q.get("problem").isNull(), q.toString());
      assertEquals(1, q.get("fileSystems").asInt(), "the guest mounted one file system, /dev/vda on /mnt: " + q);
      Path quiesced = restore(repo, guest.name(), "out-required");
      assertEquals(MARKER, ext4File(quiesced, "/marker"), "the freeze flushed the guest's page cache");
      assertFalse(ext4Header(quiesced).contains("needs_recovery"), ext4Header(quiesced));
      assertTrue(ext4Header(quiesced).matches("(?s).*Filesystem state:\\s+clean\\n.*"), ext4Header(quiesced));
      Qemu.run("e2fsck", "-f", "-n", quiesced.toString()); // exit 0: nothing to repair
      assertAgentFrozeAndThawed(guest.consoleLog().substring(mark));

      // --quiesce (try), text output: no warning line; a second unsynced file reaches the backup
      guest.writeFile("/mnt/second", "written through the agent\n");
      mark = guest.consoleLog().length();
      Thread.sleep(1100);
      Cli.Result tried = backup(libvirt, repo, work, guest.name(), "--quiesce");
      assertEquals(ExitCodes.OK, tried.code(), tried.toString());
      assertFalse(tried.err().contains("warning"), tried.toString());
      restored = restore(repo, guest.name(), "out-try");
      assertEquals("written through the agent\n", ext4File(restored, "/second"));
      assertEquals(MARKER, ext4File(restored, "/marker"));
      assertAgentFrozeAndThawed(guest.consoleLog().substring(mark));
    } // the guest stops: QEMU flushes the disk
    Path disk = dir.resolve("vda-after.raw");
    Qemu.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", dir.resolve("vda.qcow2").toString(), disk.toString());
    LibvirtSandbox.Result cmp = LibvirtSandbox.run(List.of("cmp", "-l", restored.toString(), disk.toString()), 60);
    assertEquals(1, cmp.exit(), "the thaw rewrote the superblock: " + cmp.output());
    for (String line : cmp.output().strip().split("\n")) {
      long offset = Long.parseLong(line.strip().split("\\s+")[0]) - 1; // cmp counts from 1
      assertTrue(offset >= SUPERBLOCK && offset < 2 * SUPERBLOCK, "a difference outside the superblock: " + line);
    }
    assertTrue(ext4Header(disk).contains("needs_recovery"), ext4Header(disk));
  }

  /** The agent's log and its fsfreeze hook: one freeze, then one thaw. */
  private static void assertAgentFrozeAndThawed(String console) {
    List<String> wanted = List.of("data: {\"execute\":\"guest-fsfreeze-freeze\"}", "tidemark-guest: fsfreeze-hook freeze",
        "disabling logging due to filesystem freeze", "logging re-enabled due to filesystem unfreeze",
        "tidemark-guest: fsfreeze-hook thaw");
    int at = 0;
    for (String w : wanted) {
      int i = console.indexOf(w, at);
      assertTrue(i >= 0, "'" + w + "' after offset " + at + " of the guest's console: " + console);
      at = i + w.length();
    }
    assertEquals(1, console.split("fsfreeze-hook freeze", -1).length - 1, console);
  }

  private Path restore(Path repo, String domain, String folder) throws Exception {
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", domain, "--to", dir.resolve(folder).toString());
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    return dir.resolve(folder).resolve("vda.raw");
  }

  /** A file of the ext4 file system in {@code image}, read by debugfs (empty when it is not there). */
  private static String ext4File(Path image, String path) throws Exception {
    return Qemu.run("debugfs", "-R", "cat " + path, image.toString());
  }

  /** dumpe2fs's superblock summary of {@code image}. */
  private static String ext4Header(Path image) throws Exception {
    return Qemu.run("dumpe2fs", "-h", image.toString());
  }

  private static Cli.Result backup(LibvirtSandbox libvirt, Path repo, Path work, String domain, String... more) {
    List<String> args = new ArrayList<>(List.of("backup", "--repo", repo.toString(), "--domain", domain, "--connect",
        libvirt.uri(), "--work-dir", work.toString()));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }
}
