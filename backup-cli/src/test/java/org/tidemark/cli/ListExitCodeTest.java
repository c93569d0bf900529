package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
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
}
