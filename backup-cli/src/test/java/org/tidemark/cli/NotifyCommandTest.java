package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --notify-command}: run after every run, failed ones too, with the run's JSON document on
 * stdin; its own failure or hang is one warning and never changes the exit code.
 */
class NotifyCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  Path repo;
  Path cp1;
  Path disk;

  @BeforeEach
  void sample() throws Exception {
    Path sample = Path.of("..", "sample");
    cp1 = sample.resolve("checkpoints/cp1.xml");
    disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
  }

  private JsonNode received(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    assertEquals(1, lines.size(), "one JSON line on the hook's stdin: " + lines);
    return JSON.readTree(lines.get(0));
  }

  @Test
  void aBackupWithoutJsonGivesItsDocumentToTheHookAndKeepsItsTextOutput() throws Exception {
    Path got = dir.resolve("got.json");
    Path env = dir.resolve("env.txt");
    Cli.Result r = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + disk,
        "--notify-command", "cat > '" + got + "'; echo \"$TIDEMARK_COMMAND $TIDEMARK_STATUS $TIDEMARK_EXIT_CODE\" > '" + env + "'");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertTrue(r.out().startsWith("full backup of cp1"), r.toString());
    JsonNode doc = received(got);
    assertEquals("backup", doc.get("command").asText());
    assertEquals("ok", doc.get("status").asText());
    assertEquals(0, doc.get("exitCode").asInt());
    assertEquals(repo.resolve("sample/cp1.tar").toString(), doc.get("archive").asText());
    assertEquals("backup ok 0", Files.readString(env).strip());
  }

  @Test
  void aFailedRunNotifiesTooWithItsErrorDocument() throws Exception {
    Path got = dir.resolve("got.json");
    Files.createDirectories(repo.resolve("sample"));
    Cli.Result r = Cli.run("verify", "--repo", repo.toString(), "--domain", "vm2", "--notify-command", "cat > '" + got + "'");
    assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
    JsonNode doc = received(got);
    assertEquals("verify", doc.get("command").asText());
    assertEquals("failed", doc.get("status").asText());
    assertEquals(ExitCodes.INVALID_INPUT, doc.get("exitCode").asInt());
    assertTrue(doc.get("error").get("message").asText().contains("vm2"), doc.toString());
    assertEquals("", r.out(), "without --json, nothing on stdout for a failure");
  }

  @Test
  void withJsonStdoutStaysOneLineWhateverTheHookPrints() throws Exception {
    Cli.Result r = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + disk,
        "--json", "--notify-command", "echo hello from the hook; echo and its stderr >&2");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertEquals(1, r.out().lines().count(), r.toString());
    assertEquals("backup", JSON.readTree(r.out()).get("command").asText());
    assertTrue(r.err().contains("tidemark: notify: hello from the hook"), r.toString());
    assertTrue(r.err().contains("tidemark: notify: and its stderr"), r.toString());
  }

  @Test
  void aFailingHookIsOneWarningAndTheExitCodeIsTheRunsOwn() {
    Cli.Result r = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + disk,
        "-q", "--notify-command", "cat >/dev/null; exit 3");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertEquals(1, r.err().lines().count(), r.toString());
    assertTrue(r.err().startsWith("tidemark: warning: --notify-command exited with status 3: "), r.toString());
  }

  /** A hook that hangs is stopped at its timeout, with what it started; a generous bound, far below the hang. */
  @Test
  void aHangingHookIsStoppedAtItsTimeout() throws Exception {
    Path pid = dir.resolve("sleep.pid");
    long start = System.nanoTime();
    Cli.Result r = Cli.run("list", "--repo", dir.toString(), "-q", "--notify-timeout", "1",
        "--notify-command", "sleep 600 & echo $! > '" + pid + "'; wait");
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertTrue(seconds < 60, "took " + seconds + " s");
    assertTrue(r.err().contains("--notify-command did not finish within 1 s (--notify-timeout) and was stopped"), r.toString());
    long sleeper = Long.parseLong(Files.readString(pid).strip());
    for (int i = 0; i < 50 && ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false); i++) {
      Thread.sleep(100);
    }
    assertFalse(ProcessHandle.of(sleeper).map(ProcessHandle::isAlive).orElse(false), "the hook's child was stopped too");
  }

  @Test
  void aHookThatCannotRunIsAWarning() {
    Cli.Result r = Cli.run("list", "--repo", dir.toString(), "-q", "--notify-command", "/nonexistent/notify");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertTrue(r.err().contains("tidemark: warning: --notify-command exited with status 127"), r.toString());
  }
}
