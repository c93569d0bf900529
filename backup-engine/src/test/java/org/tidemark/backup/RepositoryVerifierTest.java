package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ChunkRecord;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryVerifier;
import org.tidemark.archive.UnknownPointException;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * Repository-wide verify in the library: every domain or one, every archive checked, a damaged
 * chunk found with its disk and offset, an unknown domain a typed request error, and progress
 * told per archive.
 */
class RepositoryVerifierTest {
  private static final int CLUSTER = 65536;

  @TempDir Path dir;

  private static Checkpoint checkpoint(String domain, String name, String parent) {
    DomainDefinition d = new DomainDefinition("<domain type='kvm'>\n  <name>" + domain + "</name>\n  <devices>\n"
        + "    <disk type='file' device='disk'>\n      <target dev='vda'/>\n    </disk>\n  </devices>\n</domain>",
        "kvm", domain, Optional.empty(), List.of(DomainDisk.of("vda", "/images/vda.qcow2", "qcow2")));
    return Checkpoint.builder().name(name).parentName(parent).creationTime(1).domain(d)
        .addDisk(CheckpointDisk.bitmap("vda", name)).build();
  }

  /** Two domains: vm1 with a full and an incremental, vm2 with a full. */
  private Repository repository() throws Exception {
    Repository repo = Repository.at(dir.resolve("repo"));
    Random r = new Random(17);
    for (String domain : List.of("vm1", "vm2")) {
      MemoryDisk vda = new MemoryDisk(20 * CLUSTER, CLUSTER);
      byte[] data = new byte[5 * CLUSTER];
      r.nextBytes(data);
      vda.write(0, data, false);
      vda.addBitmap("cp1");
      Checkpoint cp1 = checkpoint(domain, "cp1", null);
      new BackupRunner(repo).run(BackupRequest.builder(cp1, d -> vda).codec(Codec.NONE).chunkSize(CLUSTER).build(),
          Progress.NONE);
      if (domain.equals("vm1")) {
        vda.addBitmap("cp2");
        vda.write(8 * CLUSTER, data, false);
        new BackupRunner(repo).run(BackupRequest.builder(checkpoint(domain, "cp2", "cp1"), d -> vda)
            .knownCheckpoints(List.of(cp1)).codec(Codec.NONE).chunkSize(CLUSTER).build(), Progress.NONE);
      }
    }
    return repo;
  }

  @Test
  void aSoundRepositoryVerifiesEveryArchiveWithProgressPerArchive() throws Exception {
    Repository repo = repository();
    List<String> items = new ArrayList<>();
    long[] totals = new long[2]; // announced, advanced
    Progress p = new Progress() {
      @Override
      public void start(String task, long totalBytes) {
        totals[0] = totalBytes;
      }

      @Override
      public void item(String item, long totalBytes) {
        items.add(item);
      }

      @Override
      public void advance(long bytes) {
        totals[1] += bytes;
      }
    };
    RepositoryVerifier.Report all = RepositoryVerifier.verify(repo, Optional.empty(), Optional.empty(),
        EngineOptions.defaults(), p, Cancellation.none());
    assertTrue(all.sound(), all.findings().toString());
    assertEquals(3, all.verified().size());
    assertEquals(3, items.size());
    assertEquals((5 + 5 + 5) * CLUSTER, totals[0]);
    assertEquals(totals[0], totals[1]);
    RepositoryVerifier.Report one = RepositoryVerifier.verify(repo, Optional.of("vm1"), Optional.of("cp1"),
        EngineOptions.defaults(), Progress.NONE, Cancellation.none());
    assertEquals(1, one.verified().size(), "only the chain of vm1/cp1");
  }

  @Test
  void aDamagedChunkIsFoundWithItsDiskAndOffset() throws Exception {
    Repository repo = repository();
    Path archive = repo.chain("vm2", Optional.empty()).get(0).path();
    ChunkRecord third;
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      third = r.chunks().get(2);
    }
    try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x55, 0x55, 0x55, 0x55}), third.dataOffset() + 100);
    }
    RepositoryVerifier.Report report = RepositoryVerifier.verify(repo, Optional.empty(), Optional.empty(),
        EngineOptions.defaults(), Progress.NONE, Cancellation.none());
    assertFalse(report.sound());
    assertEquals(1, report.findings().size(), report.findings().toString());
    Finding f = report.findings().get(0);
    assertEquals(archive, f.archive());
    assertEquals(Optional.of("vda"), f.disk());
    assertEquals(third.offset(), f.offset().getAsLong());
  }

  @Test
  void anUnknownDomainIsARequestErrorNamingTheDomainsThere() throws Exception {
    Repository repo = repository();
    UnknownPointException e = assertThrows(UnknownPointException.class, () -> RepositoryVerifier.verify(repo,
        Optional.of("vm3"), Optional.empty(), EngineOptions.defaults(), Progress.NONE, Cancellation.none()));
    assertTrue(e.getMessage().contains("vm3") && e.getMessage().contains("[vm1, vm2]"), e.getMessage());
    assertThrows(UnknownPointException.class, () -> repo.chain("vm1", Optional.of("cp9")));
    assertThrows(IllegalArgumentException.class, () -> RepositoryVerifier.verify(repo, Optional.empty(),
        Optional.of("cp1"), EngineOptions.defaults(), Progress.NONE, Cancellation.none()));
  }
}
