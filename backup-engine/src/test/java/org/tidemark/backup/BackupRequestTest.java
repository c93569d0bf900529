package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.xml.CheckpointXml;

/**
 * The request builder: its defaults, the checkpoint given once (the engine formats it into the
 * archive), a full copy asked by name, exclusions, and the checks of its arguments.
 */
class BackupRequestTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition(
      "<domain type='kvm'>\n  <name>vm1</name>\n  <devices>\n    <disk type='file' device='disk'>\n"
          + "      <source file='/images/vda.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n"
          + "    <disk type='file' device='disk'>\n"
          + "      <source file='/images/vdb.qcow2'/>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n"
          + "  </devices>\n</domain>", "kvm", "vm1", Optional.empty(),
      List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2"), DomainDisk.of("vdb", "/images/vdb.qcow2", "qcow2")));

  @TempDir Path dir;

  private static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1000).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name)).addDisk(CheckpointDisk.bitmap("vdb", name)).build();
  }

  @Test
  void defaultsAreIncrementalZstdFourMebibyteChunksNothingExcluded() {
    BackupRequest r = BackupRequest.builder(checkpoint("cp1", null), d -> null).build();
    assertEquals(BackupRequest.CopyMode.INCREMENTAL_WHERE_POSSIBLE, r.copyMode());
    assertEquals(Codec.ZSTD, r.codec());
    assertEquals(4 << 20, r.chunkSize());
    assertEquals(Set.of(), r.excluded());
    assertEquals(Map.of(), r.knownCheckpoints());
    assertTrue(!r.toolVersion().isEmpty());
  }

  @Test
  void theArchiveStoresTheCheckpointAsCheckpointXmlFormatsIt() throws Exception {
    MemoryDisk vda = new MemoryDisk(1 << 20, 65536);
    MemoryDisk vdb = new MemoryDisk(1 << 20, 65536);
    vda.write(0, new byte[] {7}, false);
    Checkpoint y = checkpoint("cp1", null);
    BackupResult b = new BackupRunner(Repository.at(dir)).run(
        BackupRequest.builder(y, d -> d.equals("vda") ? vda : vdb).exclude("vdb").build(), Progress.NONE);
    try (ArchiveReader r = ArchiveReader.open(b.archive())) {
      assertArrayEquals(CheckpointXml.format(y).getBytes(StandardCharsets.UTF_8), r.checkpointXml());
      // and it reads back as the same checkpoint, with its domain
      Checkpoint back = CheckpointXml.parse(r.checkpointXml(), "checkpoint.xml", Set.of());
      assertEquals("cp1", back.name());
      assertEquals("vm1", back.domain().orElseThrow().name());
      assertEquals(List.of("vda"), r.manifest().disks().stream().map(d -> d.name()).toList());
    }
  }

  @Test
  void fullCopyCopiesInFullWhereAnIncrementalWasPossible() throws Exception {
    MemoryDisk vda = new MemoryDisk(1 << 20, 65536);
    vda.addBitmap("cp1");
    Repository repo = Repository.at(dir);
    Checkpoint cp1 = checkpoint("cp1", null);
    new BackupRunner(repo).run(BackupRequest.builder(cp1, d -> vda).exclude("vdb").build(), Progress.NONE);
    vda.addBitmap("cp2");
    vda.write(65536, new byte[] {1}, false);
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    Checkpoint cp3 = checkpoint("cp3", "cp1");
    BackupResult inc = new BackupRunner(repo).run(BackupRequest.builder(cp2, d -> vda).exclude("vdb")
        .knownCheckpoints(List.of(cp1)).build(), Progress.NONE);
    assertEquals(DiskDecision.INCREMENTAL, inc.plan().disks().get(0).decision());
    BackupResult full = new BackupRunner(repo).run(BackupRequest.builder(cp3, d -> vda).exclude("vdb")
        .knownCheckpoints(List.of(cp1)).fullCopy().build(), Progress.NONE);
    assertEquals(DiskDecision.FORCED_FULL, full.plan().disks().get(0).decision());
    assertTrue(!full.plan().isIncremental());
  }

  @Test
  void badArgumentsAreRefusedAtOnce() {
    BackupRequest.Builder b = BackupRequest.builder(checkpoint("cp1", null), d -> null);
    assertThrows(IllegalArgumentException.class, () -> b.chunkSize(1000));
    assertThrows(IllegalArgumentException.class, () -> b.chunkSize(0));
    assertThrows(IllegalArgumentException.class, () -> b.chunkSize(32 << 20));
    assertThrows(NullPointerException.class, () -> b.codec(null));
    Checkpoint noDomain = Checkpoint.builder().name("cp1").creationTime(1).addDisk(CheckpointDisk.bitmap("vda", "cp1"))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BackupRequest.builder(noDomain, d -> null));
    assertTrue(e.getMessage().contains("cp1"), e.getMessage());
  }
}
