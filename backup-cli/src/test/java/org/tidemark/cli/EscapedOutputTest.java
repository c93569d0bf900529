package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.Resealed;

/**
 * An archive whose manifest was edited and resealed to carry terminal escape sequences (a disk
 * reason that retitles the window and clears the screen, a parent checkpoint name that turns the
 * text red): no command prints a control character, in text or in JSON.
 */
class EscapedOutputTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String REASON = "\u001b]0;pwned\u0007\u001b[2Jchanged";
  private static final String PARENT = "cp1\u001b[31m\u009b";
  @TempDir Path dir;
  Path repo;

  @BeforeEach
  void hostileArchive() throws Exception {
    byte[] bytes;
    try (InputStream in = getClass().getResourceAsStream(
        "/org/tidemark/archive/ArchiveReaderFuzzTestInputs/readAndVerify/seed-incremental-deflate")) {
      assertNotNull(in, "the archive seeds come with backup-engine's test jar");
      bytes = in.readAllBytes();
    }
    TarArchiveEntry e;
    try (TarFile tar = new TarFile(new SeekableInMemoryByteChannel(bytes))) {
      e = tar.getEntries().stream().filter(x -> x.getName().equals("manifest.json")).findFirst().orElseThrow();
    }
    int at = (int) e.getDataOffset();
    int size = (int) e.getSize();
    ObjectNode manifest = (ObjectNode) JSON.readTree(new String(bytes, at, size, StandardCharsets.UTF_8));
    assertEquals("vm1", manifest.get("domain").asText());
    ((ObjectNode) manifest.get("disks").get(0)).put("reason", REASON);
    ((ObjectNode) manifest.get("parent")).put("checkpoint", PARENT);
    byte[] json = JSON.writeValueAsBytes(manifest);
    assertTrue(json.length <= size, "the compact manifest fits in place");
    Arrays.fill(bytes, at, at + size, (byte) ' ');
    System.arraycopy(json, 0, bytes, at, json.length);
    byte[] resealed = Resealed.reseal(bytes);
    assertNotNull(resealed);
    repo = dir.resolve("repo");
    Files.write(Files.createDirectories(repo.resolve("vm1")).resolve("cp2.tar"), resealed);
  }

  private static void assertNoControlCharacter(String printed) {
    for (int i = 0; i < printed.length(); i++) {
      char c = printed.charAt(i);
      assertFalse(c != '\n' && Printable.isControl(c), "U+" + Integer.toHexString(c) + " at " + i + " of " + printed);
    }
  }

  @Test
  void listPrintsTheManifestsStringsEscaped() {
    Cli.Result list = Cli.run("list", "--repo", repo.toString());
    // the repository holds this incremental alone, without its parent: its chain is flagged too
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, list.code(), list.toString());
    // (an incremental disk's reason is in the JSON only: the text shows a reason for fallbacks)
    assertTrue(list.out().contains("BROKEN: parent archive cp1.tar (checkpoint cp1\\x1b[31m\\x9b)"), list.out());
    assertTrue(list.out().contains("parent cp1\\x1b[31m\\x9b"), list.out());
    assertNoControlCharacter(list.out());
    assertNoControlCharacter(list.err());
  }

  @Test
  void jsonOutputEscapesByJsonRules() throws Exception {
    Cli.Result list = Cli.run("list", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, list.code(), list.toString());
    assertNoControlCharacter(list.out());
    var disk = JSON.readTree(list.out()).get("domains").get(0).get("backups").get(0).get("disks").get(0);
    assertEquals(REASON, disk.get("reason").asText(), "the same string, escaped only in its JSON text");
  }

  @Test
  void verifyAndRestorePrintTheirFindingsEscaped() {
    Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, verify.code(), verify.toString());
    assertTrue(verify.err().contains("cp1\\x1b[31m\\x9b"), verify.toString());
    assertNoControlCharacter(verify.err());
    assertNoControlCharacter(verify.out());
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "vm1", "--to", dir.resolve("out").toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, restore.code(), restore.toString());
    assertTrue(restore.err().contains("cp1\\x1b[31m\\x9b"), restore.toString());
    assertNoControlCharacter(restore.err());
  }

  @Test
  void theEscapeOfEachControlCharacter() {
    assertEquals("plain é 名", Printable.escape("plain é 名"));
    assertEquals("a\\x00b\\x09c\\x0ad\\x1fe\\x7ff\\x80g\\x9fh\u00a0", Printable.escape("a\0b\tc\nd\u001fe\u007ff\u0080g\u009fh\u00a0"));
  }
}
