package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Domain names libvirt's grammar allows ({@code [^\n]+}) that are no file names: each is backed
 * up, listed, verified and restored like any other, in the folder the user guide documents.
 */
class DomainNamesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {"a/b|a%2Fb", ".hidden|%2Ehidden", "../up|%2E.%2Fup"})
  void aDomainNamedLikeAPathIsBackedUpListedVerifiedAndRestored(String domain, String folder) throws Exception {
    Path sample = Path.of("..", "sample");
    String xml = Files.readString(sample.resolve("checkpoints/cp1.xml"));
    assertTrue(xml.contains("<name>sample</name>"), "the sample's domain name");
    Path cp1 = Files.writeString(dir.resolve("cp1.xml"), xml.replace("<name>sample</name>",
        "<name>" + domain + "</name>"), StandardCharsets.UTF_8);
    Path disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    Path repo = dir.resolve("repo");

    Cli.Result backup = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + disk);
    assertEquals(ExitCodes.OK, backup.code(), backup.toString());
    try (var s = Files.list(repo)) {
      assertEquals(List.of(folder), s.map(p -> p.getFileName().toString()).toList());
    }
    assertTrue(Files.isRegularFile(repo.resolve(folder).resolve("cp1.tar")));

    Cli.Result list = Cli.run("list", "--repo", repo.toString(), "--json");
    assertEquals(ExitCodes.OK, list.code(), list.toString());
    JsonNode d = JSON.readTree(list.out()).get("domains").get(0);
    assertEquals(domain, d.get("domain").asText());
    assertEquals("cp1", d.get("backups").get(0).get("checkpoint").asText());
    Cli.Result text = Cli.run("list", "--repo", repo.toString(), "--domain", domain);
    assertTrue(text.out().startsWith("domain " + domain + ": 1 point(s), "), text.toString());

    Cli.Result verify = Cli.run("verify", "--repo", repo.toString(), "--domain", domain, "--checkpoint", "cp1");
    assertEquals(ExitCodes.OK, verify.code(), verify.toString());
    Cli.Result verifyAll = Cli.run("verify", "--repo", repo.toString());
    assertEquals(ExitCodes.OK, verifyAll.code(), verifyAll.toString());
    assertTrue(verifyAll.out().contains("verified 1 archive(s): all sound"), verifyAll.toString());

    Path out = dir.resolve("restore");
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", domain, "--to", out.toString());
    assertEquals(ExitCodes.OK, restore.code(), restore.toString());
    try (var s = Files.list(out)) {
      assertEquals(List.of(folder + ".xml", "vda.raw"), s.map(p -> p.getFileName().toString()).sorted().toList(),
          "everything inside the output folder");
    }
    assertTrue(Files.readString(out.resolve(folder + ".xml")).contains("<name>" + domain + "</name>"));
    Process p = new ProcessBuilder("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(),
        out.resolve("vda.raw").toString()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), said);
  }
}
