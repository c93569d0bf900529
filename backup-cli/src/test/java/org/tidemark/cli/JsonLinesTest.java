package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --json is JSON Lines for monitoring: one compact document on one line per run, with command,
 * startedAt, finishedAt, status and exitCode, and on failure an error document on stdout too (a
 * failed night is never an empty line in the log).
 */
class JsonLinesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static JsonNode oneLine(Cli.Result r) throws Exception {
    assertEquals(1, r.out().lines().count(), "one line: " + r);
    assertTrue(r.out().endsWith("\n"), r.toString());
    JsonNode doc = JSON.readTree(r.out());
    assertEquals(r.code(), doc.get("exitCode").asInt(), r.toString());
    Instant started = Instant.parse(doc.get("startedAt").asText());
    Instant finished = Instant.parse(doc.get("finishedAt").asText());
    assertFalse(finished.isBefore(started), doc.toString());
    return doc;
  }

  @Test
  void everyRunIsOneLineWithItsStatusAndFailuresToo() throws Exception {
    Path disk = Files.copy(Path.of("..", "sample", "vda.qcow2"), dir.resolve("vda.qcow2"));
    Path repo = dir.resolve("repo");
    Cli.Result ok = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + disk, "--json");
    JsonNode b = oneLine(ok);
    assertEquals("backup", b.get("command").asText());
    assertEquals("ok", b.get("status").asText());
    assertEquals("full", b.get("kind").asText());

    Cli.Result again = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + disk, "--json");
    JsonNode failed = oneLine(again);
    assertEquals(ExitCodes.WOULD_OVERWRITE, again.code(), again.toString());
    assertEquals("failed", failed.get("status").asText());
    assertEquals(repo.resolve("sample/cp1.tar").toString(), failed.get("error").get("file").asText());
    assertTrue(failed.get("error").get("message").asText().contains("already"), failed.toString());
    assertFalse(again.err().isBlank(), "the error is on stderr too: " + again);

    Cli.Result missing = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", dir.resolve("no.xml").toString(),
        "--json");
    JsonNode m = oneLine(missing);
    assertEquals(ExitCodes.IO_ERROR, missing.code());
    assertEquals(dir.resolve("no.xml").toString(), m.get("error").get("file").asText());

    JsonNode v = oneLine(Cli.run("verify", "--repo", repo.toString(), "--json"));
    assertEquals("verify", v.get("command").asText());
    assertEquals("ok", v.get("status").asText());
    JsonNode l = oneLine(Cli.run("list", "--repo", repo.toString(), "--json"));
    assertEquals("list", l.get("command").asText());
    JsonNode r = oneLine(Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        dir.resolve("out").toString(), "--json"));
    assertEquals("restore", r.get("command").asText());
    assertEquals("ok", r.get("status").asText());
  }
}
