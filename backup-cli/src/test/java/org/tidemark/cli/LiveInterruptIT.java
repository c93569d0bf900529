package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.qcow2.Qemu;

/**
 * Ctrl-C and kill -9 during a live backup, with the packaged jar against a real libvirtd: Ctrl-C
 * ends the backup job and removes its scratch files and the unfinished archive (exit 130); after a
 * kill -9 the job stays with libvirt until the next run ends it; either way nothing that looks like
 * a finished archive is left, and the next run succeeds and restores to the disk as it is.
 */
@Timeout(600)
class LiveInterruptIT {
  @TempDir Path dir;

  @Test
  void ctrlCAndKillDuringALiveBackupLeaveNoJobNoScratchAndNoArchive() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    // 384 MiB of random bytes: nothing compresses, so the copy takes long enough to be interrupted
    Path vda = dir.resolve("vda.qcow2");
    Path random = dir.resolve("random.bin");
    Qemu.run("sh", "-c", "head -c 402653184 /dev/urandom > " + random);
    Qemu.run("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", random.toString(), vda.toString());
    Files.delete(random);
    Qemu.run("qemu-img", "resize", "-q", vda.toString(), "1G");
    String name = libvirt.startDomain("tm-int-", List.of(vda), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try {
      for (String signal : List.of("-INT", "-KILL")) {
        Process p = PackagedJarIT.start("backup", "--repo", repo.toString(), "--domain", name, "--connect",
            libvirt.uri(), "--work-dir", work.toString(), "--compress", "none");
        Path domainDir = repo.resolve(name);
        assertTrue(PackagedJarIT.awaitFile(domainDir, ".tidemark-", p), signal + ": the archive is being written");
        Qemu.run("kill", signal, Long.toString(p.pid()));
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        if (signal.equals("-INT")) {
          assertEquals(ExitCodes.INTERRUPTED, p.exitValue(), new String(p.getInputStream().readAllBytes()));
          assertTrue(libvirt.virsh("domjobinfo", name).contains("None"), "Ctrl-C ended the backup job");
          assertEquals(List.of(), files(work), "scratch files and socket removed");
        }
        assertTrue(PackagedJarIT.names(domainDir).stream().noneMatch(n -> n.endsWith(".tar") && !n.startsWith(".")),
            signal + ": no archive that looks finished: " + PackagedJarIT.names(domainDir));
      }
      // after the kill -9 the job is still there: the next run ends it and backs up
      PackagedJarIT.Run next = PackagedJarIT.tidemark("backup", "--repo", repo.toString(), "--domain", name,
          "--connect", libvirt.uri(), "--work-dir", work.toString());
      assertEquals(0, next.code(), next.err());
      assertTrue(libvirt.virsh("domjobinfo", name).contains("None"));
      assertEquals(List.of(), files(work));
      libvirt.virsh("destroy", name);
      PackagedJarIT.Run restore = PackagedJarIT.tidemark("restore", "--repo", repo.toString(), "--domain", name,
          "--to", dir.resolve("out").toString());
      assertEquals(0, restore.code(), restore.err());
      Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", dir.resolve("out/vda.raw").toString(), vda.toString());
    } finally {
      libvirt.removeDomain(name);
    }
  }

  private static List<Path> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }
}
