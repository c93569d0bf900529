package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * The packaged command on hostile checkpoint files with a 64 MiB heap: an entity bomb in UTF-16, a
 * device, a FIFO and a 3 GB sparse file each give one line and their exit code, never an
 * {@code OutOfMemoryError}, a stack trace or a hang (each run is given 120 s, and is killed
 * after). The command with this heap does back up the sample: the bound is not what refuses them.
 */
class HostileCheckpointFilesIT {
  private static final String HEAP = "-Xmx64m";
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run tidemark(String... args) throws Exception {
    Path jar = Path.of("target", "tidemark.jar");
    assertTrue(Files.exists(jar), "the shaded jar is built in the package phase: " + jar.toAbsolutePath());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        HEAP, "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("tidemark", ".out");
    Path err = Files.createTempFile("tidemark", ".err");
    try {
      Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      p.getOutputStream().close();
      boolean ended = p.waitFor(120, TimeUnit.SECONDS);
      if (!ended) {
        p.destroyForcibly().waitFor();
      }
      assertTrue(ended, "the command hung: " + String.join(" ", args));
      return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  private static void assertOneLine(Run r, int code, String mention) {
    assertEquals(code, r.code(), r.toString());
    String err = r.err().strip();
    assertFalse(err.isEmpty() || err.contains("\n"), "one line, no stack trace: " + r);
    assertFalse(err.contains("OutOfMemoryError"), r.toString());
    assertTrue(err.contains(mention), "'" + mention + "' in: " + err);
  }

  @Test
  void hostileCheckpointFilesAreRefusedInASmallHeap() throws Exception {
    Path sample = Path.of("..", "sample").toAbsolutePath();
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    String repo = dir.resolve("repo").toString();
    String disk = "vda=" + sample.resolve("vda.qcow2");

    Run zero = tidemark("backup", "--repo", repo, "--checkpoint", "/dev/zero", "--disk", disk);
    assertOneLine(zero, ExitCodes.IO_ERROR, "/dev/zero: not a regular file");
    Run random = tidemark("checkpoint", "validate", "/dev/urandom");
    assertOneLine(random, ExitCodes.IO_ERROR, "/dev/urandom: not a regular file");

    Path bomb = Files.write(checkpoints.resolve("bomb.xml"), HostileCheckpointFilesTest.utf16EntityBomb());
    Run b = tidemark("backup", "--repo", repo, "--checkpoint", cp1.toString(), "--checkpoint-dir", checkpoints.toString(), "--disk", disk);
    assertOneLine(b, ExitCodes.INVALID_INPUT, "UTF-16BE");
    Files.delete(bomb);

    Path big = HostileCheckpointFilesTest.sparse(checkpoints.resolve("big.xml"), 3L << 30);
    Run s = tidemark("backup", "--repo", repo, "--checkpoint", cp1.toString(), "--checkpoint-dir", checkpoints.toString(), "--disk", disk);
    assertOneLine(s, ExitCodes.INVALID_INPUT, "larger than the limit");
    Files.delete(big);

    Path fifo = HostileCheckpointFilesTest.fifo(checkpoints.resolve("pipe.xml"));
    Run f = tidemark("backup", "--repo", repo, "--checkpoint", cp1.toString(), "--checkpoint-dir", checkpoints.toString(), "--disk", disk);
    assertOneLine(f, ExitCodes.IO_ERROR, "not a regular file (a FIFO)");
    Files.delete(fifo);

    assertFalse(Files.exists(dir.resolve("repo").resolve("sample").resolve("cp1.tar")), "no archive so far");
    Run ok = tidemark("backup", "--repo", repo, "--checkpoint", cp1.toString(), "--checkpoint-dir", checkpoints.toString(), "--disk", disk);
    assertEquals(ExitCodes.OK, ok.code(), ok.toString());
  }
}
