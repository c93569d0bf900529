package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code list} is a monitoring command too: it exits 4, and says what, when an archive cannot be
 * read or a point's chain cannot be restored (before, it exited 0 beside an UNREADABLE line).
 */
class ListExitCodeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  Path repo;

  @BeforeEach
  void twoPoints() throws Exception {
    Path sample = Path.of("..", "sample");
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Path cp2 = Files.copy(sample.resolve("checkpoints/cp2.xml"), checkpoints.resolve("cp2.xml"));
    Path disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
    for (Path cp : new Path[] {cp1, cp2}) {
      Cli.Result r = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp.toString(), "--checkpoint-dir",
          checkpoints.toString(), "--disk", "vda=" + disk, "-q");
      assertEquals(0, r.code(), r.toString());
    }
  }

  @Test
  void aSoundRepositoryListsWithExitZero() {
    Cli.Result r = Cli.run("list", "--repo", repo.toString());
    assertEquals(ExitCodes.OK, r.code(), r.toString());
  }

  @Test
  void anUnknownDomainIsAnErrorForListAndVerify() {
    for (String command : new String[] {"list", "verify"}) {
      Cli.Result r = Cli.run(command, "--repo", repo.toString(), "--domain", "vm2");
      assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
      assertTrue(r.err().contains("no backups of domain 'vm2' in this repository (domains: [sample])"), r.toString());
    }
  }

  @Test
  void anUnreadableArchiveGivesExitFour() throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(repo.resolve("sample/cp2.tar").toFile(), "rw")) {
      f.setLength(f.length() - 512);
    }
    Cli.Result r = Cli.run("list", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    assertTrue(r.out().contains("UNREADABLE " + repo.resolve("sample/cp2.tar")), r.toString());
    Cli.Result json = Cli.run("list", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, json.code(), json.toString());
    assertEquals(1, JSON.readTree(json.out()).get("domains").get(0).get("unreadable").size());
  }

  @Test
  void aPointWhoseParentIsGoneGivesExitFour() throws Exception {
    Files.delete(repo.resolve("sample/cp1.tar"));
    Cli.Result r = Cli.run("list", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    JsonNode broken = JSON.readTree(r.out()).get("domains").get(0).get("brokenChains");
    assertEquals(1, broken.size(), r.toString());
    assertTrue(broken.get(0).asText().startsWith("cp2: "), broken.toString());
    assertTrue(broken.get(0).asText().contains("cp1.tar"), broken.toString());
    assertTrue(Cli.run("list", "--repo", repo.toString()).out().contains("CANNOT RESTORE cp2: "));
  }

  /**
   * {@code list --json} places an unreadable archive by fields, as {@code verify --json} places a
   * problem (before, each was one string): an archive cut 300 bytes into the data of its last chunk
   * that GNU tar lists ({@code tar -tvR}) is named at the 512-byte record the cut falls in; what
   * the listing cannot know (entry, disk, guest offset) is null.
   */
  @Test
  void anArchiveCutShortIsPlacedByFields() throws Exception {
    Path archive = repo.resolve("sample/cp2.tar");
    ArchiveErrorJsonTest.Chunk chunk = cutInsideLastChunk(archive);
    JsonNode u = onlyUnreadable();
    assertEquals(archive.toString(), u.get("archive").asText(), u.toString());
    assertEquals(chunk.data(), u.get("fileOffset").asLong(), u.toString());
    for (String unknown : new String[] {"entry", "disk", "offset"}) {
      assertTrue(u.get(unknown).isNull(), unknown + ": " + u);
    }
    assertTrue(u.get("problem").asText().contains("the file has " + (chunk.data() + 300) + " bytes"), u.toString());
  }

  /**
   * A byte of the manifest changed: the seal over checkpoint, manifest and index no longer matches,
   * and the listing names the seal's entry and where tar puts its data.
   */
  @Test
  void aChangedManifestIsPlacedAtTheSealEntry() throws Exception {
    Path archive = repo.resolve("sample/cp2.tar");
    List<ArchiveErrorJsonTest.Chunk> entries = ArchiveErrorJsonTest.plainEntries(archive);
    long manifest = entries.stream().filter(e -> e.name().equals("manifest.json")).findFirst().orElseThrow().data();
    long seal = entries.stream().filter(e -> e.name().equals("seal.json")).findFirst().orElseThrow().data();
    try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
      f.seek(manifest);
      f.write(' '); // no longer the bytes sealed
    }
    JsonNode u = onlyUnreadable();
    assertEquals(archive.toString(), u.get("archive").asText(), u.toString());
    assertEquals("seal.json", u.get("entry").asText(), u.toString());
    assertEquals(seal, u.get("fileOffset").asLong(), u.toString());
    assertTrue(u.get("disk").isNull() && u.get("offset").isNull(), u.toString());
    assertTrue(u.get("problem").asText().startsWith("seal mismatch"), u.toString());
  }

  /**
   * A restore of a point the repository does not hold, beside an unreadable archive that may be it:
   * the error document gives that archive as an object (the record the cut falls in, by tar's
   * listing), not only inside the message.
   */
  @Test
  void aRestoreOfAPointNotFoundGivesTheUnreadableArchivesAsFields() throws Exception {
    Path archive = repo.resolve("sample/cp2.tar");
    ArchiveErrorJsonTest.Chunk chunk = cutInsideLastChunk(archive);
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp2", "--to",
        dir.resolve("out").toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    JsonNode error = JSON.readTree(r.out()).get("error");
    assertEquals("UnreadableArchivesException", error.get("type").asText(), error.toString());
    JsonNode unreadable = error.get("unreadable");
    assertEquals(1, unreadable.size(), error.toString());
    assertEquals(archive.toString(), unreadable.get(0).get("archive").asText(), error.toString());
    assertEquals(chunk.data(), unreadable.get(0).get("fileOffset").asLong(), error.toString());
    assertTrue(error.get("message").asText().contains("unreadable archives: cp2.tar: the file has "), error.toString());
  }

  /**
   * Asking for what the repository does not hold is a mistake in the request, typed apart from
   * damage: a disk the backup does not have (restore) and a domain it has no backups of (list);
   * exit 3, and the error document's type says so, with the disk as a field.
   */
  @Test
  void aDiskOrDomainNotThereIsARequestMistake() throws Exception {
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--disk", "vdz", "--to",
        dir.resolve("out").toString(), "--json");
    assertEquals(ExitCodes.INVALID_INPUT, restore.code(), restore.toString());
    JsonNode error = JSON.readTree(restore.out()).get("error");
    assertEquals("UnknownPointException", error.get("type").asText(), error.toString());
    assertEquals("vdz", error.get("disk").asText(), error.toString());
    assertEquals(repo.resolve("sample/cp2.tar").toString(), error.get("file").asText(), error.toString());
    assertTrue(error.get("message").asText().contains("the backup has no disk 'vdz' (disks: [vda])"), error.toString());
    assertTrue(!Files.exists(dir.resolve("out")) || isEmpty(dir.resolve("out")), "nothing restored");

    Cli.Result list = Cli.run("list", "--repo", repo.toString(), "--domain", "vm2", "--json");
    assertEquals(ExitCodes.INVALID_INPUT, list.code(), list.toString());
    assertEquals("UnknownPointException", JSON.readTree(list.out()).get("error").get("type").asText(), list.toString());
  }

  private static boolean isEmpty(Path folder) throws Exception {
    try (var s = Files.list(folder)) {
      return s.findAny().isEmpty();
    }
  }

  /** Cuts {@code archive} 300 bytes into the data of its last chunk that tar lists with a plain header. */
  private static ArchiveErrorJsonTest.Chunk cutInsideLastChunk(Path archive) throws Exception {
    ArchiveErrorJsonTest.Chunk chunk = ArchiveErrorJsonTest.lastPlainChunk(archive);
    try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
      f.setLength(chunk.data() + 300);
    }
    return chunk;
  }

  /** The one unreadable archive {@code list --json} reports (exit 4). */
  private JsonNode onlyUnreadable() throws Exception {
    Cli.Result r = Cli.run("list", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    JsonNode unreadable = JSON.readTree(r.out()).get("domains").get(0).get("unreadable");
    assertEquals(1, unreadable.size(), unreadable.toString());
    return unreadable.get(0);
  }
}
