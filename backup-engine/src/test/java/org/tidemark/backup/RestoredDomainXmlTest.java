package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.restore.ImageFormat;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.xml.DomainGrammar;
import org.tidemark.xml.DomainXml;

/**
 * The domain definition a restore writes: taken from the archive's checkpoint, it points at the
 * images of the restore (absolute paths) and never at an original writable disk; a checkpoint
 * saved without its domain gives no definition, not an empty file.
 */
class RestoredDomainXmlTest {
  private static final String VDA = "/var/lib/libvirt/images/vm1-vda.qcow2";
  private static final String VDB = "/dev/vg0/vm1-data";
  private static final String DOMAIN_XML = "  <domain type='kvm'>\n    <name>vm1</name>\n"
      + "    <uuid>6f1f6a4e-2b8e-4d1c-9a51-0e3c3b1a9d01</uuid>\n    <memory unit='KiB'>65536</memory>\n"
      + "    <os>\n      <type arch='x86_64'>hvm</type>\n    </os>\n    <devices>\n"
      + "      <disk type='file' device='disk'>\n        <driver name='qemu' type='qcow2'/>\n"
      + "        <source file='" + VDA + "'/>\n        <target dev='vda' bus='virtio'/>\n      </disk>\n"
      + "      <disk type='block' device='disk'>\n        <driver name='qemu' type='raw'/>\n"
      + "        <source dev='" + VDB + "'/>\n        <target dev='vdb' bus='virtio'/>\n      </disk>\n"
      + "      <interface type='network'>\n        <mac address='52:54:00:00:00:01'/>\n"
      + "        <source network='default'/>\n      </interface>\n    </devices>\n  </domain>\n";

  @TempDir Path dir;

  /** A repository with one full backup of vda and vdb whose checkpoint.xml is {@code checkpointXml}. */
  private Repository backup(String checkpointXml) throws IOException {
    MemoryDisk vda = new MemoryDisk(1 << 20, 65536);
    MemoryDisk vdb = new MemoryDisk(1 << 19, 65536);
    vda.write(4096, new byte[] {1, 2, 3}, false);
    vdb.write(70000, new byte[] {4, 5}, false);
    vda.addBitmap("cp1");
    vdb.addBitmap("cp1");
    Checkpoint y = Checkpoint.builder().name("cp1").creationTime(1)
        .domain(new DomainDefinition(DOMAIN_XML, "kvm", "vm1", Optional.empty(),
            List.of(DomainDisk.of("vda", VDA, "qcow2"), DomainDisk.of("vdb", VDB, "raw"))))
        .addDisk(CheckpointDisk.bitmap("vda", "cp1")).addDisk(CheckpointDisk.bitmap("vdb", "cp1")).build();
    Repository repo = Repository.at(dir.resolve("repo"));
    new BackupRunner(repo).run(BackupRequest.builder(y, disk -> disk.equals("vda") ? vda : vdb)
        .codec(Codec.NONE).chunkSize(65536).toolVersion("test")
        .storedXml(checkpointXml.getBytes(StandardCharsets.UTF_8)).build(), Progress.NONE);
    return repo;
  }

  private static String checkpoint(String domain) {
    return "<domaincheckpoint>\n  <name>cp1</name>\n  <creationTime>1</creationTime>\n  <disks>\n"
        + "    <disk name='vda' checkpoint='bitmap' bitmap='cp1'/>\n    <disk name='vdb' checkpoint='bitmap' bitmap='cp1'/>\n"
        + "  </disks>\n" + domain + "</domaincheckpoint>\n";
  }

  private static RestoreRequest request(Optional<String> disk, Optional<String> newName) {
    return RestoreRequest.builder("vm1").disk(disk).newName(newName).build();
  }

  private static List<String> names(Path out) throws IOException {
    try (Stream<Path> s = Files.list(out)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** The definition as the domain model reads it (libvirt's grammar when installed): target to source. */
  private static Map<String, Optional<String>> sources(Path xml) throws Exception {
    DomainDefinition d = DomainXml.parse(Files.readAllBytes(xml), xml.toString(), DomainGrammar.host());
    Map<String, Optional<String>> out = new java.util.LinkedHashMap<>();
    d.disks().forEach(k -> out.put(k.target(), k.source()));
    return out;
  }

  @Test
  void theDefinitionPointsAtTheRestoredImagesNeverAtTheOriginals() throws Exception {
    Repository repo = backup(checkpoint(DOMAIN_XML));
    Path out = dir.resolve("out");
    RestoreResult r = new RestoreRunner(repo).run(request(Optional.empty(), Optional.empty()), RestoreTarget.folder(out, false), Progress.NONE);
    assertEquals(Optional.of(out.resolve("vm1.xml")), r.domainXml());
    assertEquals(List.of(), r.disksLeftOut());
    String xml = Files.readString(out.resolve("vm1.xml"));
    assertEquals(Map.of("vda", Optional.of(out.resolve("vda.raw").toString()), "vdb", Optional.of(out.resolve("vdb.raw").toString())),
        sources(out.resolve("vm1.xml")));
    assertFalse(xml.contains(VDA) || xml.contains(VDB), xml);
    assertEquals(2, xml.split("type='raw'", -1).length - 1, "both drivers say raw:\n" + xml);
    assertTrue(xml.startsWith("<domain type='kvm'>\n  <name>vm1</name>\n  <uuid>6f1f6a4e-2b8e-4d1c-9a51-0e3c3b1a9d01</uuid>"), xml);
    assertTrue(xml.contains("52:54:00:00:00:01"), "same name, same identity:\n" + xml);
  }

  @Test
  void aRelativeTargetFolderGivesAbsolutePathsAndQcow2GivesQcow2Drivers() throws Exception {
    Repository repo = backup(checkpoint(DOMAIN_XML));
    Path relative = Path.of("target", "restored-domain-xml-" + System.nanoTime());
    try {
      new RestoreRunner(repo).run(RestoreRequest.builder("vm1").format(ImageFormat.QCOW2).build(), RestoreTarget.folder(relative, false), Progress.NONE);
      Path abs = relative.toAbsolutePath();
      assertEquals(Map.of("vda", Optional.of(abs.resolve("vda.qcow2").toString()), "vdb", Optional.of(abs.resolve("vdb.qcow2").toString())),
          sources(relative.resolve("vm1.xml")));
      assertEquals(2, Files.readString(relative.resolve("vm1.xml")).split("type='qcow2'", -1).length - 1);
    } finally {
      for (String n : names(relative)) {
        Files.delete(relative.resolve(n));
      }
      Files.delete(relative);
    }
  }

  @Test
  void aSubsetRestoreLeavesTheOtherWritableDiskOut() throws Exception {
    Repository repo = backup(checkpoint(DOMAIN_XML));
    Path out = dir.resolve("out");
    RestoreResult r = new RestoreRunner(repo).run(request(Optional.of("vda"), Optional.empty()), RestoreTarget.folder(out, false), Progress.NONE);
    assertEquals(List.of("vdb"), r.disksLeftOut());
    assertEquals(Map.of("vda", Optional.of(out.resolve("vda.raw").toString())), sources(out.resolve("vm1.xml")));
    assertEquals(List.of("vda.raw", "vm1.xml"), names(out));
  }

  @Test
  void aNewNameWritesNewnameXmlWithANewIdentity() throws Exception {
    Repository repo = backup(checkpoint(DOMAIN_XML));
    Path out = dir.resolve("out");
    RestoreResult r = new RestoreRunner(repo).run(request(Optional.empty(), Optional.of("vm1-copy")), RestoreTarget.folder(out, false), Progress.NONE);
    assertEquals(Optional.of(out.resolve("vm1-copy.xml")), r.domainXml());
    assertEquals(List.of("vda.raw", "vdb.raw", "vm1-copy.xml"), names(out));
    DomainDefinition d = DomainXml.parse(Files.readAllBytes(out.resolve("vm1-copy.xml")), "vm1-copy.xml", DomainGrammar.host());
    assertEquals("vm1-copy", d.name());
    assertTrue(d.uuid().isPresent() && !d.uuid().get().equals("6f1f6a4e-2b8e-4d1c-9a51-0e3c3b1a9d01"), d.uuid().toString());
    String xml = Files.readString(out.resolve("vm1-copy.xml"));
    assertFalse(xml.contains("52:54:00:00:00:01"), xml);
    assertTrue(xml.matches("(?s).*<mac address='52:54:00(:[0-9a-f]{2}){3}'/>.*"), xml);
  }

  @Test
  void aCheckpointWithoutDomainGivesNoDefinitionAndSaysSo() throws Exception {
    Repository repo = backup(checkpoint(""));
    Path out = dir.resolve("out");
    RestoreResult r = new RestoreRunner(repo).run(request(Optional.empty(), Optional.empty()), RestoreTarget.folder(out, false), Progress.NONE);
    assertEquals(Optional.empty(), r.domainXml());
    assertEquals(List.of("vda.raw", "vdb.raw"), names(out), "images only, no empty vm1.xml");

    Path other = dir.resolve("other");
    ArchiveException e = assertThrows(ArchiveException.class,
        () -> new RestoreRunner(repo).run(request(Optional.empty(), Optional.of("copy")), RestoreTarget.folder(other, false), Progress.NONE));
    assertTrue(e.getMessage().contains("saved without its domain"), e.getMessage());
    assertFalse(Files.exists(other), "nothing written");
  }

  @Test
  void anUnreadableDefinitionStopsTheRestoreBeforeAnythingIsWritten() throws Exception {
    Repository repo = backup("<!DOCTYPE domaincheckpoint [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
        + checkpoint(DOMAIN_XML.replace("<name>vm1</name>", "<name>&x;</name>")));
    Path out = dir.resolve("out");
    ArchiveException e = assertThrows(ArchiveException.class,
        () -> new RestoreRunner(repo).run(request(Optional.empty(), Optional.empty()), RestoreTarget.folder(out, false), Progress.NONE));
    assertTrue(e.getMessage().contains("checkpoint.xml:1:") && e.getMessage().contains("entity declarations are not allowed"),
        e.getMessage());
    assertFalse(Files.exists(out), "nothing written");
  }
}
