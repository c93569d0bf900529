package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.model.Virsh;

/** {@code tidemark checkpoint format} with each flag and mode, against what virsh prints. */
class CheckpointCommandTest {
  @TempDir Path dir;

  @Test
  void formatFlagsPrintWhatVirshPrints() throws Exception {
    String doc = Virsh.run(dir, List.of("checkpoint-create-as test base", "checkpoint-dumpxml test base")).get(1).output() + "\n";
    Path file = Files.writeString(dir.resolve("base.xml"), doc);
    List<Virsh.Reply> v = Virsh.run(dir, List.of("checkpoint-create test " + file + " --redefine",
        "checkpoint-dumpxml test base --no-domain", "checkpoint-dumpxml test base --security-info"));
    assertEquals(doc, Cli.run("checkpoint", "format", file.toString()).out());
    assertEquals(doc, Cli.run("checkpoint", "format", "--redefine", file.toString()).out());
    assertEquals(v.get(1).output() + "\n", Cli.run("checkpoint", "format", "--no-domain", file.toString()).out());
    assertEquals(v.get(2).output() + "\n", Cli.run("checkpoint", "format", "--secure", file.toString()).out());
    Path bare = Files.writeString(dir.resolve("bare.xml"), v.get(1).output() + "\n");
    assertEquals(ExitCodes.INVALID_INPUT, Cli.run("checkpoint", "format", bare.toString()).code(), "REDEFINE needs <domain>");
    assertEquals(v.get(1).output() + "\n", Cli.run("checkpoint", "format", "--allow-missing-domain", bare.toString()).out());
  }

  @Test
  void createModeAlignsWithTheDomainAsVirshCheckpointCreateDoes() throws Exception {
    String domain = Virsh.run(dir, List.of("dumpxml test --inactive")).get(0).output() + "\n";
    Path domainFile = Files.writeString(dir.resolve("test.xml"), domain);
    Path input = Files.writeString(dir.resolve("new.xml"), "<domaincheckpoint>\n  <name>fresh</name>\n"
        + "  <parent><name>ignored</name></parent>\n  <creationTime>5</creationTime>\n"
        + "  <disks>\n    <disk name='vda'/>\n  </disks>\n</domaincheckpoint>\n");
    String virsh = Virsh.run(dir, List.of("checkpoint-create test " + input, "checkpoint-dumpxml test fresh")).get(1).output() + "\n";
    Cli.Result ours = Cli.run("checkpoint", "format", "--domain-xml", domainFile.toString(), input.toString());
    assertEquals(ExitCodes.OK, ours.code(), ours.toString());
    String timeLine = "  <creationTime>[0-9]+</creationTime>\n";
    assertTrue(ours.out().matches("(?s).*" + timeLine + ".*"), ours.out());
    assertEquals(virsh.replaceAll(timeLine, ""), ours.out().replaceAll(timeLine, ""));
    Cli.Result both = Cli.run("checkpoint", "format", "--redefine", "--domain-xml", domainFile.toString(), input.toString());
    assertEquals(ExitCodes.USAGE, both.code(), both.toString());
  }
}
