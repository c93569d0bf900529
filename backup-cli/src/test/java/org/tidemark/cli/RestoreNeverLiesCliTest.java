package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.archive.Repository;
import org.tidemark.archive.Tampering;

/**
 * Through the command: a restore without {@code --checkpoint} restores the newest point or fails
 * with exit 4, and whatever {@code verify} rejects with exit 4, {@code restore} rejects with exit 4
 * too, writing nothing.
 */
class RestoreNeverLiesCliTest {
  @TempDir Path dir;

  static List<Tampering.Case> cases() {
    return Tampering.cases();
  }

  private static List<Path> everything(Path p) throws Exception {
    if (!Files.exists(p)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(q -> !q.equals(p)).toList();
    }
  }

  @Test
  void aTruncatedNewestArchiveFailsTheDefaultRestoreAndTheOlderPointRestoresWhenAskedFor() throws Exception {
    Path sample = Path.of("..", "sample");
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Path cp2 = Files.copy(sample.resolve("checkpoints/cp2.xml"), checkpoints.resolve("cp2.xml"));
    Path disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    Path repo = dir.resolve("repo");
    for (Path cp : List.of(cp1, cp2)) {
      Cli.Result b = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp.toString(),
          "--checkpoint-dir", checkpoints.toString(), "--disk", "vda=" + disk);
      assertEquals(0, b.code(), b.toString());
    }
    Path newest = repo.resolve("sample/cp2.tar");
    try (RandomAccessFile f = new RandomAccessFile(newest.toFile(), "rw")) {
      f.setLength(f.length() - 512);
    }
    Path out = dir.resolve("restore");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertTrue(r.err().startsWith("tidemark: " + newest + ": the newest backup of domain 'sample' cannot be read"), r.err());
    assertTrue(r.err().contains("--checkpoint NAME restores an older one (restorable: [cp1])"), r.err());
    assertEquals(List.of(), everything(out));

    Cli.Result older = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp1",
        "--to", out.toString());
    assertEquals(0, older.code(), older.toString());
    // qemu-img decides: the disk has not changed since cp1
    Process p = new ProcessBuilder("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(),
        out.resolve("vda.raw").toString()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), said);
    assertEquals("Images are identical.", said.strip());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void whatVerifyRejectsRestoreRejectsWithTheSameExitCode(Tampering.Case c) throws Exception {
    Path repo = dir.resolve("repo");
    Tampering.writeChain(Repository.at(repo));
    Cli.Result sound = Cli.run("verify", "--repo", repo.toString());
    assertEquals(0, sound.code(), sound.toString());
    Tampering.rewriteManifest(repo.resolve("vm1").resolve(c.archive()), c.edit());
    Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, verify.code(), verify.toString());
    assertTrue(verify.err().contains(c.finding()), verify.err());
    Path out = dir.resolve("restore");
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "vm1", "--to", out.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, restore.code(), restore.toString());
    assertEquals(1, restore.err().strip().lines().count(), restore.err());
    assertTrue(restore.err().contains(c.archive()), restore.err());
    assertEquals(List.of(), everything(out));
    assertFalse(Files.exists(out.resolve("vda.raw")));
  }
}
