package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON documents say where an archive is damaged (or a checkpoint document refused) as fields,
 * taken from the error's fields:
 * the failed restore's {@code error} and verify's {@code problems} give the archive, the tar entry,
 * the byte offset in the archive file, the disk and the guest offset. The expected place is GNU
 * tar's listing of the archive ({@code tar -tvR}: the entry's header block, its data one record
 * later, the guest offset in its name).
 */
class ArchiveErrorJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LINE = Pattern.compile("^block (\\d+): \\S+ \\S+\\s+(\\d+) \\S+ \\S+ (.+)$");

  @TempDir Path dir;

  /** The last chunk entry that tar lists with one plain header: its name and where its header and data start. */
  record Chunk(String name, long header, long data) {}

  static Chunk lastPlainChunk(Path archive) throws Exception {
    List<Chunk> chunks = plainEntries(archive).stream().filter(c -> c.name().startsWith("disks/")).toList();
    assertTrue(!chunks.isEmpty(), "a chunk with a plain header in " + archive);
    return chunks.get(chunks.size() - 1);
  }

  /** The entries that tar lists with one plain header each, in order: name, header and data offsets. */
  static List<Chunk> plainEntries(Path archive) throws Exception {
    Process p = new ProcessBuilder("tar", "-tvR", "-f", archive.toString()).redirectErrorStream(true).start();
    List<String> lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), lines.toString());
    List<Chunk> found = new ArrayList<>();
    for (int i = 0; i + 1 < lines.size(); i++) {
      Matcher m = LINE.matcher(lines.get(i));
      Matcher next = Pattern.compile("^block (\\d+):").matcher(lines.get(i + 1));
      if (m.matches() && next.find()) {
        long block = Long.parseLong(m.group(1));
        long size = Long.parseLong(m.group(2));
        // one header record: the next entry starts right after this one's padded data
        if (Long.parseLong(next.group(1)) == block + 1 + (size + 511) / 512) {
          found.add(new Chunk(m.group(3), 512 * block, 512 * (block + 1)));
        }
      }
    }
    return found;
  }

  @Test
  void aDamagedChunkIsPlacedByTheErrorDocumentAndByVerify() throws Exception {
    Path disk = Files.copy(Path.of("..", "sample", "vda.qcow2"), dir.resolve("vda.qcow2"));
    Path repo = dir.resolve("repo");
    assertEquals(0, Cli.run("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + disk, "--json").code());
    Path archive = repo.resolve("sample/cp1.tar");
    Chunk chunk = lastPlainChunk(archive);
    try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
      f.seek(chunk.data() + 3);
      int b = f.read();
      f.seek(chunk.data() + 3);
      f.write(b ^ 0x10);
    }
    String file = chunk.name().substring(chunk.name().lastIndexOf('/') + 1);
    long guest = Long.parseLong(file.substring(0, file.indexOf('.')), 16);

    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        dir.resolve("out").toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, restore.code(), restore.toString());
    JsonNode error = JSON.readTree(restore.out()).get("error");
    assertEquals(archive.toString(), error.get("file").asText(), error.toString());
    assertEquals(chunk.name(), error.get("entry").asText(), error.toString());
    assertEquals(chunk.data(), error.get("fileOffset").asLong(), error.toString());
    assertEquals("vda", error.get("disk").asText(), error.toString());
    assertEquals(guest, error.get("offset").asLong(), error.toString());

    Cli.Result verify = Cli.run("verify", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, verify.code(), verify.toString());
    JsonNode problems = JSON.readTree(verify.out()).get("problems");
    assertEquals(1, problems.size(), problems.toString());
    JsonNode problem = problems.get(0);
    assertEquals(archive.toString(), problem.get("archive").asText());
    assertEquals(chunk.name(), problem.get("entry").asText(), problem.toString());
    assertEquals(chunk.data(), problem.get("fileOffset").asLong(), problem.toString());
    assertEquals("vda", problem.get("disk").asText(), problem.toString());
    assertEquals(guest, problem.get("offset").asLong(), problem.toString());
  }

  /** A refused checkpoint document: the error document gives its file, line and column as fields. */
  @Test
  void aRefusedCheckpointIsPlacedByItsFileLineAndColumn() throws Exception {
    Path disk = Files.copy(Path.of("..", "sample", "vda.qcow2"), dir.resolve("vda.qcow2"));
    String text = Files.readString(Path.of("..", "sample", "checkpoints", "cp1.xml"))
        .replace("  <description>", "  <bogus/>\n  <description>");
    int at = text.indexOf("<bogus/>");
    assertTrue(at > 0, "the sample has a description");
    long line = text.substring(0, at).chars().filter(c -> c == '\n').count() + 1;
    Path bad = Files.writeString(dir.resolve("cp1.xml"), text);
    Cli.Result r = Cli.run("backup", "--repo", dir.resolve("repo").toString(), "--checkpoint", bad.toString(),
        "--disk", "vda=" + disk, "--json");
    assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
    JsonNode error = JSON.readTree(r.out()).get("error");
    assertEquals(bad.toString(), error.get("file").asText(), error.toString());
    assertEquals(line, error.get("line").asLong(), error.toString());
    assertTrue(error.get("column").asInt() > 0, error.toString());
  }
}
