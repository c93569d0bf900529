package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.qcow2.Qemu;

/**
 * The distribution archive as an operator installs it: unpacked with {@code tar} in a folder of its
 * own, {@code bin/tidemark} symlinked into another folder put on PATH, and run by name from a third
 * folder (before, a symlinked launcher looked for the jar beside the link and failed).
 */
class DistributionIT {
  @TempDir Path dir;

  record Run(int code, String out, String err) {
    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  /** Runs a shell command line in {@code cwd} with {@code pathDir} first on PATH, as cron would. */
  private static Run sh(Path cwd, Path pathDir, String line) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", line).directory(cwd.toFile());
    String java = Path.of(System.getProperty("java.home"), "bin").toString();
    pb.environment().put("PATH", pathDir + ":" + java + ":/usr/bin:/bin");
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), line + " timed out");
    return new Run(p.exitValue(), out, err);
  }

  @Test
  void unpackedAnywhereAndRunThroughASymlinkOnPath() throws Exception {
    String version = Main.Version.version();
    Path tarball = Path.of("target", "tidemark-" + version + ".tar.gz").toAbsolutePath();
    assertTrue(Files.isRegularFile(tarball), "mvn package builds the distribution: " + tarball);
    Path opt = Files.createDirectories(dir.resolve("opt"));
    Qemu.run("tar", "-xzf", tarball.toString(), "-C", opt.toString());
    Path home = opt.resolve("tidemark-" + version);
    assertTrue(Files.isExecutable(home.resolve("bin/tidemark")));
    assertTrue(Files.isRegularFile(home.resolve("lib/tidemark.jar")));
    Path pathBin = Files.createDirectories(dir.resolve("usr-local-bin"));
    Files.createSymbolicLink(pathBin.resolve("tidemark"), home.resolve("bin/tidemark"));
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere"));

    Run v = sh(elsewhere, pathBin, "tidemark --version");
    assertEquals(0, v.code(), v.toString());
    assertTrue(v.out().startsWith("tidemark " + version + "\n"), v.toString());

    // the sample, copied out of the distribution; a full and an incremental backup appended to a JSON Lines log
    Path sample = home.resolve("sample");
    Path disk = Files.copy(sample.resolve("vda.qcow2"), elsewhere.resolve("vda.qcow2"));
    String checkpoints = sample.resolve("checkpoints").toString();
    for (String cp : new String[] {"cp1", "cp2"}) {
      Run b = sh(elsewhere, pathBin, "tidemark backup --repo repo --checkpoint " + checkpoints + "/" + cp + ".xml"
          + " --checkpoint-dir " + checkpoints + " --disk vda=vda.qcow2 --json >> tidemark.jsonl");
      assertEquals(0, b.code(), b.toString());
    }
    List<String> log = Files.readAllLines(elsewhere.resolve("tidemark.jsonl"));
    assertEquals(2, log.size(), log.toString());
    assertEquals("incremental", new ObjectMapper().readTree(log.get(1)).get("kind").asText(), log.get(1));

    Run r = sh(elsewhere, pathBin, "tidemark restore --repo repo --domain sample --to restored -q");
    assertEquals(0, r.code(), r.toString());
    Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(),
        elsewhere.resolve("restored/vda.raw").toString());
  }
}
