package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.model.Virsh;

/**
 * A folder of a domain's checkpoint files read as a whole: what libvirt wrote is read with its tree;
 * each broken rule of the set is one {@link CheckpointXmlException} naming the file it is about.
 * The cases edit the sample checkpoints (cp2's parent is cp1) in one place each.
 */
class CheckpointSetTest {
  private static final Path SAMPLE = Path.of("..", "sample", "checkpoints");
  private static final String PARENT_CP2 = "  <parent>\n    <name>cp2</name>\n  </parent>\n";
  @TempDir Path dir;

  private Path sample() throws Exception {
    Path f = Files.createDirectories(dir.resolve("checkpoints"));
    Files.copy(SAMPLE.resolve("cp1.xml"), f.resolve("cp1.xml"));
    Files.copy(SAMPLE.resolve("cp2.xml"), f.resolve("cp2.xml"));
    return f;
  }

  private static CheckpointXmlException refused(Path folder) {
    return assertThrows(CheckpointXmlException.class, () -> CheckpointSet.read(folder, DomainGrammar.builtIn()));
  }

  @Test
  void aChainLibvirtWroteIsReadWithItsTree() throws Exception {
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create-as test a", "checkpoint-create-as test b",
        "checkpoint-dumpxml test a", "checkpoint-dumpxml test b"));
    Path folder = Files.createDirectories(dir.resolve("libvirt"));
    Files.writeString(folder.resolve("a.xml"), r.get(2).output());
    Files.writeString(folder.resolve("b.xml"), r.get(3).output());
    Files.writeString(folder.resolve("README"), "not a checkpoint, not named *.xml: never read");
    CheckpointSet s = CheckpointSet.read(folder, DomainGrammar.builtIn());
    assertEquals(List.of("a", "b"), List.copyOf(s.checkpoints().keySet()));
    assertEquals(Optional.of("a"), s.checkpoints().get("b").parentName());
    assertEquals(Optional.of("test"), s.domainName());
    assertEquals(Optional.of(folder.resolve("b.xml").toString()), s.resource("b"));
  }

  @Test
  void theSampleIsASet() throws Exception {
    CheckpointSet s = CheckpointSet.read(sample(), DomainGrammar.builtIn());
    assertEquals(2, s.checkpoints().size());
    assertEquals(Optional.of("sample"), s.domainName());
  }

  @Test
  void aNameDefinedTwiceIsRefusedNamingBothFiles() throws Exception {
    Path f = sample();
    Files.copy(f.resolve("cp1.xml"), f.resolve("cp0.xml"));
    CheckpointXmlException e = refused(f);
    assertEquals(f.resolve("cp1.xml").toString(), e.resource()); // files are read in the order of their names
    assertEquals("checkpoint 'cp1' is defined twice: also in " + f.resolve("cp0.xml"), e.problem());
  }

  @Test
  void aCheckpointOfAnotherDomainIsRefused() throws Exception {
    Path f = sample();
    Path cp2 = f.resolve("cp2.xml");
    Files.writeString(cp2, Files.readString(cp2).replace("<name>sample</name>", "<name>other</name>"));
    CheckpointXmlException e = refused(f);
    assertEquals(cp2.toString(), e.resource());
    assertTrue(e.problem().startsWith("checkpoint 'cp2' is of domain 'other', not of domain 'sample' as "
        + f.resolve("cp1.xml") + " is"), e.getMessage());
  }

  @Test
  void aMissingParentIsRefusedAsLibvirtRefusesIt() throws Exception {
    Path f = sample();
    Files.delete(f.resolve("cp1.xml"));
    CheckpointXmlException e = refused(f);
    assertEquals(f.resolve("cp2.xml").toString(), e.resource());
    assertEquals("the parent 'cp1' of checkpoint 'cp2' is not in the set (1 checkpoint)", e.problem());
    // libvirt's own rule: a checkpoint whose parent it does not know cannot be redefined
    Path orphan = Files.writeString(dir.resolve("orphan.xml"),
        "<domaincheckpoint>\n  <name>orphan</name>\n  <parent>\n    <name>gone</name>\n  </parent>\n"
            + "  <creationTime>5</creationTime>\n</domaincheckpoint>\n");
    Virsh.Reply r = Virsh.run(dir, List.of("checkpoint-create test " + orphan + " --redefine")).get(0);
    assertTrue(r.failed() && r.output().contains("parent gone for moment orphan not found"), r.output());
  }

  @Test
  void aCycleOfParentsIsRefused() throws Exception {
    Path f = sample();
    Path cp1 = f.resolve("cp1.xml");
    Files.writeString(cp1, Files.readString(cp1).replace("  <description>", PARENT_CP2 + "  <description>"));
    CheckpointXmlException e = refused(f);
    assertEquals(cp1.toString(), e.resource());
    assertEquals("checkpoint 'cp1' is its own ancestor: cp1 -> cp2 -> cp1", e.problem());
  }

  @Test
  void aFileThatIsNotXmlIsRefusedWithItsPosition() throws Exception {
    Path f = sample();
    Path notes = Files.writeString(f.resolve("notes.xml"), "these are notes\n");
    CheckpointXmlException e = refused(f);
    assertEquals(notes.toString(), e.resource());
    assertEquals(1, e.line(), e.getMessage());
  }

  @Test
  void aFolderOrAFifoIsRefusedUnopened() throws Exception {
    Path f = sample();
    Path folder = Files.createDirectories(f.resolve("folder.xml"));
    FileSystemException e = assertThrows(FileSystemException.class, () -> CheckpointSet.read(f, DomainGrammar.builtIn()));
    assertEquals(folder.toString(), e.getFile());
    assertEquals("not a regular file (a directory)", e.getReason());
    Files.delete(folder);
    Path fifo = f.resolve("pipe.xml");
    Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertTrue(mk.waitFor(30, TimeUnit.SECONDS) && mk.exitValue() == 0);
    FileSystemException p = assertTimeoutPreemptively(Duration.ofSeconds(60),
        () -> assertThrows(FileSystemException.class, () -> CheckpointSet.read(f, DomainGrammar.builtIn())));
    assertEquals("not a regular file (a device, FIFO or socket)", p.getReason());
  }

  @Test
  void checkpointsWithoutTheirDomainJoinAnySet() throws Exception {
    Path f = sample();
    Path cp2 = f.resolve("cp2.xml");
    String text = Files.readString(cp2);
    Files.writeString(cp2, text.substring(0, text.indexOf("  <domain")) + "</domaincheckpoint>\n");
    CheckpointSet s = CheckpointSet.read(f, DomainGrammar.builtIn());
    assertEquals(Optional.empty(), s.checkpoints().get("cp2").domain());
    assertEquals(Optional.of("sample"), s.domainName());
  }
}
