package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.Progress;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.Qemu;

/**
 * Backups started within one second, with no pause between them (cp1 full, cp2 and cp3
 * incremental, QEMU writing the disk between them): after cp3 is consolidated (it has no parent
 * any more) {@code list} still shows cp3 as the newest, a restore without {@code --checkpoint}
 * restores cp3 (identical to the image, {@code qemu-img compare}) and {@code prune --keep-last 1}
 * keeps cp3. The archives record the start of each backup to the nanosecond (format version 3);
 * with whole seconds the repository could only order the three by their parent links, and after
 * the consolidation took cp3 for the oldest of its second.
 */
class SameSecondBackupsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ATTEMPTS = 30;

  @TempDir Path dir;

  /** The folder of a chain whose three backups started within the same whole second. */
  private Path sameSecondChain() throws Exception {
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      Path d = Files.createDirectories(dir.resolve("attempt-" + attempt));
      Repository repo = Repository.at(d.resolve("repo"));
      Path img = d.resolve("vda.qcow2");
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "8M");
      Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 1 0 2M", img.toString());
      DomainDefinition domain = new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", "vm",
          Optional.empty(), List.of(DomainDisk.of("vda", img.toString(), "qcow2")));
      Map<String, Checkpoint> known = new HashMap<>();
      String parent = null;
      for (int p = 1; p <= 3; p++) {
        String name = "cp" + p;
        Qemu.run("qemu-img", "bitmap", "--add", img.toString(), name);
        Checkpoint y = Checkpoint.builder().name(name).parentName(parent).creationTime(1000 + p).domain(domain)
            .addDisk(CheckpointDisk.bitmap("vda", name)).build();
        new BackupRunner(repo).run(BackupRequest.builder(y, disk -> Qcow2Image.open(img)).knownCheckpoints(known)
            .codec(Codec.ZSTD).chunkSize(1 << 20).toolVersion("test").build(), Progress.NONE);
        known.put(name, y);
        parent = name;
        if (p < 3) { // the guest writes between the points: cp3 differs from cp2
          Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P " + (p + 1) + " " + p + "M 1M", img.toString());
        }
      }
      List<Instant> created = new ArrayList<>();
      for (int p = 1; p <= 3; p++) {
        try (ArchiveReader r = ArchiveReader.open(repo.domainDir("vm").resolve("cp" + p + ".tar"))) {
          Manifest m = r.manifest();
          assertEquals(p == 1 ? Optional.empty() : Optional.of("cp" + (p - 1)),
              m.parent().map(x -> x.checkpoint()), "cp" + p + "'s parent");
          created.add(m.createdAt());
        }
      }
      assertTrue(created.get(0).isBefore(created.get(1)) && created.get(1).isBefore(created.get(2)),
          "each backup starts after the one before, to the nanosecond: " + created);
      if (created.get(0).getEpochSecond() == created.get(2).getEpochSecond()) {
        return d;
      }
    }
    return fail("three backups did not start within one second in " + ATTEMPTS + " attempts");
  }

  @Test
  void afterAConsolidationTheNewestOfBackupsStartedWithinOneSecondIsStillTheNewest() throws Exception {
    Path d = sameSecondChain();
    String repo = d.resolve("repo").toString();
    Path img = d.resolve("vda.qcow2");

    Cli.Result consolidate = Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp3", "-q");
    assertEquals(0, consolidate.code(), consolidate.toString());

    Cli.Result list = Cli.run("list", "--repo", repo, "--domain", "vm", "--json");
    assertEquals(0, list.code(), list.toString());
    List<String> order = new ArrayList<>();
    JSON.readTree(list.out()).get("domains").get(0).get("backups").forEach(b -> order.add(b.get("checkpoint").asText()));
    assertEquals(List.of("cp1", "cp2", "cp3"), order, "list, oldest first: " + list.out());

    Path out = d.resolve("restored");
    Cli.Result restore = Cli.run("restore", "--repo", repo, "--domain", "vm", "--to", out.toString(), "--format", "raw",
        "--json");
    assertEquals(0, restore.code(), restore.toString());
    assertEquals("cp3", JSON.readTree(restore.out()).get("checkpoint").asText(), "the newest point: " + restore.out());
    Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", out.resolve("vda.raw").toString(), img.toString());

    Cli.Result prune = Cli.run("prune", "--repo", repo, "--domain", "vm", "--keep-last", "1", "-q");
    assertEquals(0, prune.code(), prune.toString());
    try (Stream<Path> s = Files.list(d.resolve("repo").resolve("vm"))) {
      assertEquals(List.of("cp3.tar"), s.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".tar") && !n.startsWith(".")).sorted().toList(), "prune --keep-last 1 keeps cp3");
    }
    Path again = d.resolve("restored-after-prune");
    Cli.Result after = Cli.run("restore", "--repo", repo, "--domain", "vm", "--to", again.toString(), "--format", "raw",
        "-q");
    assertEquals(0, after.code(), after.toString());
    Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2", again.resolve("vda.raw").toString(), img.toString());
  }
}
