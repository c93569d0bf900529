package org.tidemark.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.Progress;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * A repository of real backups of domain {@code vm}, taken from qcow2 images that QEMU writes: disk
 * vda throughout, vdb added at the third point; between points, seeded guest writes; at points 5
 * and 8 (and at seeded others) one disk loses the previous checkpoint's bitmap (that disk falls back
 * to a full copy, the other stays incremental); at point 10 (and seeded others) a backup is full
 * for every disk. At each point every disk is copied by
 * {@code qemu-img convert}: the ground truth a restore of that point must equal ({@code qemu-img
 * compare}). In the engine's test jar, for the command's tests too.
 */
public final class RealHistory {
  /** The repository. */
  public final Path repo;
  /** The points, oldest first. */
  public final List<String> points = new ArrayList<>();
  /** Per point, per disk, the raw copy QEMU made of the disk at that point. */
  public final Map<String, Map<String, Path>> truth = new LinkedHashMap<>();
  /** How many backups copied some disk in full while another stayed incremental. */
  public int perDiskFallbacks;

  private RealHistory(Path repo) {
    this.repo = repo;
  }

  /** Builds {@code n} points under {@code dir} (images, copies, and the repository {@code dir/repo}). */
  public static RealHistory build(Path dir, long seed, int n) throws Exception {
    Random r = new Random(seed);
    Files.createDirectories(dir);
    RealHistory h = new RealHistory(dir.resolve("repo"));
    Path pattern = dir.resolve("pattern");
    byte[] data = new byte[256 << 10];
    r.nextBytes(data);
    Files.write(pattern, data);
    Map<String, Path> images = new LinkedHashMap<>();
    Map<String, Checkpoint> known = new HashMap<>();
    String parent = null;
    for (int i = 0; i < n; i++) {
      // each backup in a second of its own, as nightly ones are: within one second the repository
      // orders backups by their parent links, so keep-last would depend on how fast this machine is
      long second = System.currentTimeMillis() / 1000;
      while (i > 0 && System.currentTimeMillis() / 1000 == second) {
        Thread.sleep(20);
      }
      if (i == 0 || i == 2) {
        String disk = i == 0 ? "vda" : "vdb";
        Path img = dir.resolve(disk + ".qcow2");
        Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "8M");
        images.put(disk, img);
      }
      for (Path img : images.values()) {
        List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (int k = 0; k < 3; k++) {
          long off = r.nextInt(7 << 20);
          io.addAll(List.of("-c", (r.nextInt(4) == 0 ? "write -q -z " : "write -q -s " + pattern + " ") + off + " "
              + (1 + r.nextInt(200 << 10))));
        }
        io.add(img.toString());
        Qemu.run(io.toArray(String[]::new));
      }
      // vda falls back at point 5, vdb at point 8, a full backup at 10; and seeded ones besides
      boolean forceFull = i == 10 || i > 2 && r.nextInt(8) == 0;
      if (!forceFull && (i == 5 || i == 8 || i > 2 && r.nextInt(6) == 0)) {
        List<String> disks = List.copyOf(images.keySet());
        String lose = i == 5 ? "vda" : i == 8 ? "vdb" : disks.get(r.nextInt(disks.size()));
        Qemu.run("qemu-img", "bitmap", "--remove", images.get(lose).toString(), parent);
      }
      String cp = String.format("cp%02d", i);
      List<DomainDisk> domainDisks = new ArrayList<>();
      Checkpoint.Builder y = Checkpoint.builder().name(cp).parentName(parent).creationTime(1000 + i);
      Map<String, Path> copies = new LinkedHashMap<>();
      for (Map.Entry<String, Path> d : images.entrySet()) {
        Qemu.run("qemu-img", "bitmap", "--add", d.getValue().toString(), cp);
        Path copy = dir.resolve(cp + "-" + d.getKey() + ".raw");
        Qemu.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", d.getValue().toString(), copy.toString());
        copies.put(d.getKey(), copy);
        domainDisks.add(DomainDisk.of(d.getKey(), d.getValue().toString(), "qcow2"));
        y.addDisk(CheckpointDisk.bitmap(d.getKey(), cp));
      }
      y.domain(new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", "vm", Optional.empty(),
          domainDisks));
      Checkpoint c = y.build();
      BackupResult b = new BackupRunner(Repository.at(h.repo)).run(BackupRequest.builder(c,
          disk -> Qcow2Image.open(images.get(disk))).knownCheckpoints(known)
          .copyMode(forceFull ? BackupRequest.CopyMode.FULL : BackupRequest.CopyMode.INCREMENTAL_WHERE_POSSIBLE)
          .codec(Codec.ZSTD).chunkSize(1 << 20).toolVersion("test").build(), Progress.NONE);
      long full = b.plan().disks().stream().filter(d -> d.decision() != org.tidemark.archive.DiskDecision.INCREMENTAL).count();
      h.perDiskFallbacks += full > 0 && full < b.plan().disks().size() && i > 0 ? 1 : 0;
      known.put(cp, c);
      h.points.add(cp);
      h.truth.put(cp, copies);
      parent = cp;
    }
    return h;
  }

  /** The checkpoints whose archives are in the repository now, oldest first. */
  public List<String> present() throws IOException {
    return Repository.at(repo).scan("vm").backups().stream().map(b -> b.checkpoint()).toList();
  }

  /**
   * Restores {@code point} into a scratch folder under {@code scratch} and checks each disk with
   * {@code qemu-img compare} against QEMU's copy at that point; the scratch folder is removed.
   */
  public void assertRestoresIdentical(String point, Path scratch) throws Exception {
    assertRestoresIdentical(repo, point, scratch);
  }

  /** {@link #assertRestoresIdentical(String, Path)} from a copy of the repository at {@code copy}. */
  public void assertRestoresIdentical(Path copy, String point, Path scratch) throws Exception {
    Path out = scratch.resolve("restore-" + point);
    new RestoreRunner(Repository.at(copy)).run(RestoreRequest.builder("vm").checkpoint(point).build(), RestoreTarget.folder(out, false),
        Progress.NONE);
    for (Map.Entry<String, Path> d : truth.get(point).entrySet()) {
      String said = Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", d.getValue().toString(),
          out.resolve(d.getKey() + ".raw").toString());
      assertEquals("", said.strip(), point + " " + d.getKey());
    }
    try (Stream<Path> s = Files.walk(out)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
