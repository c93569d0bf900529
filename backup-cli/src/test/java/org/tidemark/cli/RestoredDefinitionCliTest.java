package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.model.Virsh;

/**
 * The domain XML {@code tidemark restore} writes, on the sample shipped in the repository: libvirt
 * (virsh's test driver) defines it, and it names the restored image, never the original disk.
 * {@code --define} against the test driver: a name libvirt has is refused before anything is
 * written, a new one is written as NEWNAME.xml and defined.
 */
class RestoredDefinitionCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The sample's disk as its checkpoints' domain names it. */
  private static final String ORIGINAL = "/var/lib/libvirt/images/sample-vda.qcow2";
  @TempDir Path dir;
  Path repo;

  @BeforeEach
  void backUpTheSample() throws Exception {
    Path sample = Path.of("..", "sample");
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Path disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
    Cli.Result b = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--checkpoint-dir",
        checkpoints.toString(), "--disk", "vda=" + disk);
    assertEquals(0, b.code(), b.toString());
  }

  private static List<String> names(Path out) throws Exception {
    try (Stream<Path> s = Files.list(out)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theRestoredSampleXmlNamesTheRestoredImageAndLibvirtDefinesIt() throws Exception {
    Path out = dir.resolve("restore");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString());
    assertEquals(0, r.code(), r.toString());
    Path xml = out.resolve("sample.xml");
    String text = Files.readString(xml);
    Path image = out.resolve("vda.raw").toAbsolutePath();
    assertFalse(text.contains(ORIGINAL), "the restored XML still names the live image:\n" + text);
    assertTrue(text.contains("<source file='" + image + "'/>"), text);
    List<Virsh.Reply> v = Virsh.run(dir, List.of("define " + xml, "dumpxml sample", "domblklist sample --details"));
    assertFalse(v.get(0).failed(), v.get(0).output());
    String dump = v.get(1).output();
    assertTrue(dump.contains("<source file='" + image + "'/>"), dump);
    assertTrue(dump.contains("<driver name='qemu' type='raw'/>"), dump);
    assertFalse(dump.contains(ORIGINAL), dump);
    assertTrue(v.get(2).output().matches("(?s).*file\\s+disk\\s+vda\\s+" + java.util.regex.Pattern.quote(image.toString()) + ".*"),
        v.get(2).output());
    assertTrue(r.out().contains("domain XML -> " + xml), r.toString());
  }

  @Test
  void defineWithANameLibvirtHasIsRefusedBeforeAnythingIsWritten() throws Exception {
    Path out = dir.resolve("restore");
    // virsh's test driver always has a domain named "test"
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--define", "test",
        "--connect", "test:///default");
    assertEquals(ExitCodes.WOULD_OVERWRITE, r.code(), r.toString());
    assertTrue(r.err().contains("a domain named 'test' is already defined in libvirt at test:///default"), r.toString());
    assertEquals(1, r.err().strip().lines().count(), r.toString());
    assertFalse(Files.exists(out), "nothing written");
  }

  @Test
  void defineWritesNewnameXmlAndDefinesIt() throws Exception {
    Path out = dir.resolve("restore");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--define",
        "sample-copy", "--connect", "test:///default", "--json");
    assertEquals(0, r.code(), r.toString());
    JsonNode j = JSON.readTree(r.out());
    assertEquals("sample-copy", j.get("defined").asText());
    assertEquals(out.resolve("sample-copy.xml").toString(), j.get("domainXml").asText());
    assertEquals(List.of("sample-copy.xml", "vda.raw"), names(out));
    String text = Files.readString(out.resolve("sample-copy.xml"));
    assertTrue(text.contains("<name>sample-copy</name>"), text);
    assertFalse(text.contains("5c6d7e8f-0a1b-4c2d-9e3f-405162738495"), "a new UUID:\n" + text);
    // the test driver's state ends with each connection: libvirt defines the file again and dumps it
    List<Virsh.Reply> v = Virsh.run(dir, List.of("define " + out.resolve("sample-copy.xml"), "dumpxml sample-copy"));
    assertFalse(v.get(0).failed(), v.get(0).output());
    assertTrue(v.get(1).output().contains("<source file='" + out.resolve("vda.raw").toAbsolutePath() + "'/>"), v.get(1).output());
  }

  @Test
  void connectWithoutDefineAndBadNamesAreUsageErrors() throws Exception {
    Path out = dir.resolve("restore");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--connect",
        "test:///default");
    assertEquals(ExitCodes.USAGE, r.code(), r.toString());
    assertTrue(r.err().contains("--connect needs --define"), r.toString());
    for (String bad : List.of("", "a/b")) {
      Cli.Result b = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--define", bad,
          "--connect", "test:///default");
      assertEquals(ExitCodes.USAGE, b.code(), b.toString());
      assertTrue(b.err().contains("--define: invalid domain name"), b.toString());
    }
    assertFalse(Files.exists(out), "nothing written");
  }
}
