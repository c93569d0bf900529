package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.qcow2.Qemu;

/**
 * A 20 TiB disk (backed up: within the 32 TiB a backup takes) restored as raw onto a file system
 * that holds no file that large (ext4: 16 TiB): one line naming the image and what to do instead,
 * exit 5, nothing left; as qcow2 it restores and QEMU finds it identical to the source.
 */
class LargeDiskRestoreTest {
  @TempDir Path dir;

  @Test
  void aRawImageTooLargeForTheFileSystemIsNamedAndQcow2Works() throws Exception {
    Path disk = dir.resolve("big.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "20T");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 19T 64k", disk.toString());
    Path repo = dir.resolve("repo");
    Cli.Result b = Cli.run("backup", "--repo", repo.toString(), "--checkpoint",
        Path.of("..", "sample", "checkpoints", "cp1.xml").toString(), "--disk", "vda=" + disk, "-q");
    assertEquals(ExitCodes.OK, b.code(), b.toString());
    String fs = Qemu.run("stat", "-f", "-c", "%T", dir.toString()).strip();
    assertTrue(fs.startsWith("ext2/ext3"), "the test needs ext4's 16 TiB file size limit, found " + fs);

    Path raw = dir.resolve("raw");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", raw.toString());
    assertEquals(ExitCodes.IO_ERROR, r.code(), r.toString());
    String err = r.err().strip();
    assertFalse(err.contains("\n"), r.toString());
    assertTrue(err.startsWith("tidemark: " + raw.resolve("vda.raw") + ": cannot be made 21990232555520 bytes long"), err);
    assertTrue(err.contains("--format qcow2"), err);
    try (var left = Files.list(raw)) {
      assertEquals(0, left.count(), "nothing left");
    }

    Cli.Result q = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        dir.resolve("q").toString(), "--format", "qcow2");
    assertEquals(ExitCodes.OK, q.code(), q.toString());
    Qemu.run("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", dir.resolve("q/vda.qcow2").toString(),
        disk.toString());
  }
}
