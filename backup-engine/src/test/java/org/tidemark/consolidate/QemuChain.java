package org.tidemark.consolidate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
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

/**
 * A chain of {@value #POINTS} backups of a two-disk domain {@code vm} whose qcow2 images QEMU
 * writes between the points (data, zero writes, discards), with a different chain per disk: at
 * cp4 disk vdb is copied in full (bitmap cp3 was never added to it: {@code bitmap-missing}), at cp6
 * disk vda (its bitmap cp5 was removed). At each point {@code qemu-img convert} keeps a raw copy of
 * each disk, the ground truth a restore of that point is compared with.
 */
public final class QemuChain {
  public static final int POINTS = 7;
  public static final String DOMAIN = "vm";
  public static final List<String> DISKS = List.of("vda", "vdb");
  /** The decision each disk's backup must take, per point (1-based). */
  static final Map<Integer, Map<String, DiskDecision>> FALLBACKS = Map.of(
      4, Map.of("vdb", DiskDecision.BITMAP_MISSING), 6, Map.of("vda", DiskDecision.BITMAP_MISSING));

  public final Path dir;
  public final Repository repo;

  private QemuChain(Path dir) {
    this.dir = dir;
    this.repo = Repository.at(dir.resolve("repo"));
  }

  /** The raw copy of {@code disk} at point {@code p} (1-based). */
  public Path copy(int p, String disk) {
    return dir.resolve("cp" + p + "-" + disk + ".raw");
  }

  /** The archive of point {@code p}. */
  public Path archive(int p) {
    return repo.domainDir(DOMAIN).resolve("cp" + p + Repository.SUFFIX);
  }

  /** A copy of the chain's repository under {@code to}, without its lock file; the raw copies stay where they are. */
  public Repository copyRepository(Path to) throws java.io.IOException {
    Path from = repo.root();
    try (java.util.stream.Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path q = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else if (!p.getFileName().toString().equals(org.tidemark.archive.RepositoryLock.FILE_NAME)) {
          Files.copy(p, q);
        }
      }
    }
    return Repository.at(to);
  }

  /** Builds the chain in {@code dir}: images of {@code mib} MiB, {@code writes} guest writes per disk between points. */
  public static QemuChain build(Path dir, long seed, int mib, int writes) throws Exception {
    QemuChain c = new QemuChain(dir);
    Random r = new Random(seed);
    Map<String, Path> images = new HashMap<>();
    List<DomainDisk> domainDisks = new ArrayList<>();
    for (String d : DISKS) {
      Path img = dir.resolve(d + ".qcow2");
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), mib + "M");
      images.put(d, img);
      domainDisks.add(DomainDisk.of(d, img.toString(), "qcow2"));
      guestWrites(dir, img, r, writes * 3, mib);
    }
    DomainDefinition domain = new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", DOMAIN,
        Optional.empty(), domainDisks);
    Map<String, Checkpoint> known = new HashMap<>();
    String parent = null;
    for (int p = 1; p <= POINTS; p++) {
      String name = "cp" + p;
      Checkpoint.Builder b = Checkpoint.builder().name(name).parentName(parent).creationTime(1000 + p).domain(domain);
      for (String d : DISKS) {
        b.addDisk(CheckpointDisk.bitmap(d, name));
        if (!(p == 3 && d.equals("vdb"))) {
          Qemu.run("qemu-img", "bitmap", "--add", images.get(d).toString(), name);
        }
        if (p == 6 && d.equals("vda")) {
          Qemu.run("qemu-img", "bitmap", "--remove", images.get(d).toString(), "cp5");
        }
        Qemu.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", images.get(d).toString(), c.copy(p, d).toString());
      }
      Checkpoint y = b.build();
      BackupResult result = new BackupRunner(c.repo).run(BackupRequest.builder(y,
          disk -> Qcow2Image.open(images.get(disk))).knownCheckpoints(known).codec(Codec.ZSTD).chunkSize(1 << 20)
          .toolVersion("test").build(), Progress.NONE);
      for (var d : result.plan().disks()) {
        DiskDecision want = p == 1 ? DiskDecision.NO_BASE_BACKUP
            : FALLBACKS.getOrDefault(p, Map.of()).getOrDefault(d.disk(), DiskDecision.INCREMENTAL);
        assertEquals(want, d.decision(), name + " " + d.disk());
      }
      known.put(name, y);
      parent = name;
      for (String d : DISKS) {
        guestWrites(dir, images.get(d), r, writes, mib);
      }
    }
    return c;
  }

  /** {@code count} seeded guest writes through qemu-io: data, zero writes and discards. */
  private static void guestWrites(Path dir, Path img, Random r, int count, int mib) throws Exception {
    Path pattern = dir.resolve("pattern");
    byte[] data = new byte[512 << 10];
    r.nextBytes(data);
    Files.write(pattern, data);
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < count; i++) {
      long off = r.nextInt((mib - 1) << 20);
      int len = 1 + r.nextInt(data.length);
      int kind = r.nextInt(6);
      cmd.add("-c");
      cmd.add(kind == 0 ? "write -q -z " + off + " " + len
          : kind == 1 ? "discard -q " + (off & ~0xffffL) + " " + (2 << 16)
          : "write -q -s " + pattern + " " + off + " " + len);
    }
    cmd.add(img.toString());
    Qemu.run(cmd.toArray(String[]::new));
  }
}
