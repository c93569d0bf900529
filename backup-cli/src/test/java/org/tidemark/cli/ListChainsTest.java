package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code list} shows, per point and disk, the archives a restore reads (different per disk after a
 * fallback), what each size means, and flags leftover temporary files.
 */
class ListChainsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  TwoDiskSample sample;

  @BeforeEach
  void cp1FullThenCp2WithVdbFallingBack() throws Exception {
    sample = new TwoDiskSample(dir);
    sample.backup("cp1", ExitCodes.OK, "-q");
    sample.backup("cp2", ExitCodes.PARTIAL, "-q");
  }

  private JsonNode disk(JsonNode domain, String checkpoint, String disk) {
    for (JsonNode b : domain.get("backups")) {
      if (b.get("checkpoint").asText().equals(checkpoint)) {
        for (JsonNode d : b.get("disks")) {
          if (d.get("disk").asText().equals(disk)) {
            return d;
          }
        }
      }
    }
    throw new AssertionError(checkpoint + "/" + disk + " not listed in " + domain);
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void eachDiskNamesTheArchivesItsRestoreReads() throws Exception {
    Cli.Result r = Cli.run("list", "--repo", sample.repo.toString(), "--json");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    JsonNode domain = JSON.readTree(r.out()).get("domains").get(0);
    assertEquals(List.of("cp2.tar", "cp1.tar"), texts(disk(domain, "cp2", "vda").get("chain")));
    assertEquals(List.of("cp2.tar"), texts(disk(domain, "cp2", "vdb").get("chain")));
    assertEquals(List.of("cp1.tar"), texts(disk(domain, "cp1", "vdb").get("chain")));
    assertTrue(disk(domain, "cp2", "vdb").get("fallback").asBoolean());
    assertTrue(!disk(domain, "cp2", "vda").get("fallback").asBoolean());

    Cli.Result text = Cli.run("list", "--repo", sample.repo.toString());
    assertTrue(text.out().matches("(?s).*\\n +vda +incremental .* cp2\\.tar cp1\\.tar\\n.*"), text.toString());
    assertTrue(text.out().matches("(?s).*\\n +vdb +full .* cp2\\.tar; fell back to full: .*"), text.toString());
    for (String header : new String[] {"POINT", "CREATED", "FILE", "HELD", "RESTORES", "VIRTUAL", "NEEDS"}) {
      assertTrue(text.out().contains(" " + header), header + " missing: " + text);
    }
    assertTrue(text.out().contains(ListCommand.SIZES_LEGEND), text.toString());
  }

  /** RESTORES is what a restore writes: the data extents qemu-img maps in the restored raw image. */
  @Test
  void restoredBytesAreTheDataARawRestoreWrites() throws Exception {
    JsonNode domain = JSON.readTree(Cli.run("list", "--repo", sample.repo.toString(), "--json").out())
        .get("domains").get(0);
    for (String cp : new String[] {"cp1", "cp2"}) {
      Path to = dir.resolve("restore-" + cp);
      Cli.Result r = Cli.run("restore", "--repo", sample.repo.toString(), "--domain", "sample", "--checkpoint", cp,
          "--to", to.toString(), "-q");
      assertEquals(0, r.code(), r.toString());
      for (String d : new String[] {"vda", "vdb"}) {
        assertEquals(TwoDiskSample.rawDataBytes(to.resolve(d + ".raw")), disk(domain, cp, d).get("restoredBytes").asLong(),
            cp + "/" + d);
        assertEquals(64L << 20, disk(domain, cp, d).get("virtualSize").asLong());
      }
    }
  }

  @Test
  void aLeftoverTemporaryFileIsFlaggedWithoutFailingTheListing() throws Exception {
    Path leftover = Files.writeString(sample.repo.resolve("sample/.cp3.tar.tmp-12345"), "half an archive");
    Cli.Result r = Cli.run("list", "--repo", sample.repo.toString(), "--json");
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertEquals(List.of(leftover.toString()), texts(JSON.readTree(r.out()).get("domains").get(0).get("leftovers")));
    Cli.Result text = Cli.run("list", "--repo", sample.repo.toString());
    assertTrue(text.out().contains("LEFTOVER " + leftover), text.toString());
  }

  @Test
  void aChainBrokenForOneDiskOnlyIsNamedForThatDisk() throws Exception {
    Files.delete(sample.repo.resolve("sample/cp1.tar"));
    Cli.Result r = Cli.run("list", "--repo", sample.repo.toString(), "--json");
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    JsonNode domain = JSON.readTree(r.out()).get("domains").get(0);
    assertTrue(disk(domain, "cp2", "vda").get("problem").asText().contains("cp1.tar"), r.toString());
    assertTrue(disk(domain, "cp2", "vda").get("restoredBytes").isNull());
    assertTrue(disk(domain, "cp2", "vdb").get("problem").isNull(), r.toString());
    Cli.Result text = Cli.run("list", "--repo", sample.repo.toString());
    assertTrue(text.out().matches("(?s).*\\n +vda +incremental .* BROKEN: parent archive cp1\\.tar .*"), text.toString());
  }
}
