package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged jar on a machine without libvirt's and libnbd's client libraries (JNA told to look
 * for them nowhere): a live backup says in one line which package to install; an offline backup,
 * a restore and a verify need neither and succeed.
 */
class NativeLibrariesMissingIT {
  @TempDir Path dir;

  private static PackagedJarIT.Run withoutNativeLibraries(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djna.platform.library.path=/nonexistent", "-Djna.library.path=/nonexistent", "-jar",
        Path.of("target", "tidemark.jar").toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    return new PackagedJarIT.Run(p.exitValue(), out, err);
  }

  @Test
  void aLiveBackupNamesThePackageAndOfflineWorkNeedsNoNativeLibrary() throws Exception {
    Path repo = dir.resolve("repo");
    PackagedJarIT.Run live = withoutNativeLibraries("backup", "--repo", repo.toString(), "--domain", "vm1");
    assertEquals(ExitCodes.IO_ERROR, live.code(), live.err());
    assertEquals(List.of("tidemark: libvirt's client library is not installed (libvirt.so.0 was not found; "
        + "Debian/Ubuntu: apt-get install libvirt0): it is needed to talk to libvirt"), live.err().lines().toList());

    Path disk = Files.copy(Path.of("..", "sample", "vda.qcow2"), dir.resolve("vda.qcow2"));
    PackagedJarIT.Run offline = withoutNativeLibraries("backup", "--repo", repo.toString(), "--checkpoint",
        "../sample/checkpoints/cp1.xml", "--disk", "vda=" + disk, "-q");
    assertEquals(0, offline.code(), offline.err());
    assertEquals(0, withoutNativeLibraries("verify", "--repo", repo.toString(), "-q").code());
    PackagedJarIT.Run restore = withoutNativeLibraries("restore", "--repo", repo.toString(), "--domain", "sample",
        "--to", dir.resolve("out").toString(), "-q");
    assertEquals(0, restore.code(), restore.err());
  }
}
