package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code list}'s text columns line up under their headers whatever the length of the point names
 * (libvirt takes any name; nightly jobs often name checkpoints after the date), and a domain folder
 * without archives says so.
 */
class ListColumnsTest {
  @TempDir Path dir;

  @Test
  void columnsLineUpUnderTheirHeadersWithLongPointNames() throws Exception {
    Path sample = Path.of("..", "sample");
    String longName = "nightly-2026-12-05-0200-database-server-01"; // 42 characters, wider than the column's 20
    Path repo = dir.resolve("repo");
    Path cp1 = Files.writeString(dir.resolve("cp1.xml"), Files.readString(sample.resolve("checkpoints/cp1.xml"))
        .replace("<name>cp1</name>", "<name>" + longName + "</name>"), StandardCharsets.UTF_8);
    assertTrue(Files.readString(cp1).contains(longName));
    Cli.Result backup = Cli.run("backup", "-q", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk",
        "vda=" + sample.resolve("vda.qcow2"));
    assertEquals(ExitCodes.OK, backup.code(), backup.toString());

    Cli.Result list = Cli.run("list", "--repo", repo.toString());
    assertEquals(ExitCodes.OK, list.code(), list.toString());
    List<String> lines = list.out().lines().toList();
    String header = lines.stream().filter(l -> l.startsWith("  POINT")).findFirst().orElseThrow();
    String point = lines.stream().filter(l -> l.startsWith("  " + longName)).findFirst().orElseThrow();
    java.util.regex.Matcher created = java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\dT").matcher(point);
    assertTrue(created.find(2 + longName.length()), point);
    assertEquals(header.indexOf("CREATED"), created.start(), "CREATED over the creation time:\n" + list.out());
    assertEquals(header.indexOf("KIND"), point.indexOf("full"), "KIND over the kind:\n" + list.out());
    assertEquals(header.indexOf("ARCHIVE"), point.indexOf(longName + ".tar"), "ARCHIVE over the file:\n" + list.out());
    assertEquals(header.indexOf("FILE") + "FILE".length(), point.indexOf(" MiB") + " MiB".length(),
        "FILE's right edge over the size's:\n" + list.out());
  }

  @Test
  void pruneLinesLineUpWithLongPointNames() throws Exception {
    Path sample = Path.of("..", "sample");
    String longName = "nightly-2026-12-05-0200-database-server-01";
    Path repo = dir.resolve("repo");
    Path cp1 = Files.writeString(dir.resolve("cp1.xml"), Files.readString(sample.resolve("checkpoints/cp1.xml"))
        .replace("<name>cp1</name>", "<name>" + longName + "</name>"), StandardCharsets.UTF_8);
    for (Path checkpoint : List.of(cp1, sample.resolve("checkpoints/cp2.xml"))) {
      Cli.Result backup = Cli.run("backup", "-q", "--repo", repo.toString(), "--checkpoint", checkpoint.toString(),
          "--disk", "vda=" + sample.resolve("vda.qcow2"));
      // cp2's parent cp1 is not in the repository under that name: a full backup instead (partial)
      assertTrue(backup.code() == ExitCodes.OK || backup.code() == ExitCodes.PARTIAL, backup.toString());
    }
    Cli.Result prune = Cli.run("prune", "--repo", repo.toString(), "--domain", "sample", "--keep-last", "1",
        "--dry-run");
    assertEquals(ExitCodes.OK, prune.code(), prune.toString());
    List<String> lines = prune.out().lines().filter(l -> l.startsWith("  keep") || l.startsWith("  remove")).toList();
    assertEquals(2, lines.size(), prune.out());
    java.util.regex.Pattern created = java.util.regex.Pattern.compile(" \\d{4}-\\d\\d-\\d\\dT");
    List<Integer> columns = lines.stream().map(l -> {
      java.util.regex.Matcher m = created.matcher(l);
      assertTrue(m.find(l.indexOf(longName) < 0 ? 0 : l.indexOf(longName) + longName.length()), l);
      return m.start();
    }).toList();
    assertEquals(columns.get(0), columns.get(1), "the creation times line up:\n" + prune.out());
  }

  @Test
  void aDomainFolderWithoutArchivesSaysItHasNoBackups() throws Exception {
    Path repo = dir.resolve("repo");
    Files.createDirectories(repo.resolve("vm-gone"));
    Cli.Result list = Cli.run("list", "--repo", repo.toString());
    assertEquals(ExitCodes.OK, list.code(), list.toString());
    assertEquals("domain vm-gone: no backups (its folder holds no archive)", list.out().strip(), list.toString());
  }
}
