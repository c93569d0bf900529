package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * Backups of the kinds of images QEMU and libvirt leave behind, each restored at every point and
 * compared with {@code qemu-img compare} to the copy {@code qemu-img convert} made of the source at
 * that checkpoint: compressed clusters, extended L2 (subclusters), small and large clusters, a
 * backing chain after an external snapshot (bitmaps in both layers, as libvirt keeps them), a
 * multi-disk domain with a raw disk, and the fallbacks libvirt's users meet: a bitmap left in use by
 * a QEMU that was killed, a bitmap removed from the image, and a layer of the chain without the
 * bitmap. The expected decisions come
 * from the images' state as {@code qemu-img info} reports it.
 */
class QemuSourcesBackupTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** A domain's disks, checkpoints taken on them, and QEMU's copy of every disk at each. */
  private final class Chain {
    final Map<String, Path> images = new LinkedHashMap<>();
    final Map<String, String> formats = new HashMap<>();
    final Set<String> tracked = new java.util.HashSet<>();
    final Repository repo = Repository.at(dir.resolve("repo"));
    final Map<String, Checkpoint> known = new HashMap<>();
    final List<String> points = new ArrayList<>();
    String parent;

    Chain disk(String name, Path image, String format, boolean bitmap) {
      images.put(name, image);
      formats.put(name, format);
      if (bitmap) {
        tracked.add(name);
      }
      return this;
    }

    DomainDefinition domain() {
      List<DomainDisk> disks = new ArrayList<>();
      images.forEach((name, path) -> disks.add(DomainDisk.of(name, path.toString(), formats.get(name))));
      return new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", "vm", Optional.empty(), disks);
    }

    /** Adds the checkpoint's bitmaps to the top layer of each tracked disk, copies the disks, backs up. */
    BackupResult checkpoint(String name) throws Exception {
      Checkpoint.Builder b = Checkpoint.builder().name(name).parentName(parent).creationTime(1000 + points.size())
          .domain(domain());
      for (String disk : images.keySet()) {
        if (tracked.contains(disk)) {
          Qemu.run("qemu-img", "bitmap", "--add", images.get(disk).toString(), name);
          b.addDisk(CheckpointDisk.bitmap(disk, name));
        } else {
          b.addDisk(CheckpointDisk.untracked(disk));
        }
        Qemu.run("qemu-img", "convert", "-f", formats.get(disk), "-O", "raw", images.get(disk).toString(),
            copyOf(name, disk).toString());
      }
      Checkpoint y = b.build();
      BackupResult result = new BackupRunner(repo).run(BackupRequest.builder(y,
          disk -> Images.open(images.get(disk), Optional.of(formats.get(disk)))).knownCheckpoints(known)
          .chunkSize(1 << 20).toolVersion("test").build(), Progress.NONE);
      assertEquals(List.of(), ArchiveVerifier.verify(result.archive()), name);
      known.put(name, y);
      points.add(name);
      parent = name;
      return result;
    }

    Path copyOf(String checkpoint, String disk) {
      return dir.resolve(checkpoint + "-" + disk + ".raw");
    }

    /** Every point restores, disk by disk, to what qemu-img compare finds identical to QEMU's copy. */
    void assertEveryPointRestores() throws Exception {
      for (String point : points) {
        Path out = dir.resolve("restore-" + point);
        new RestoreRunner(repo).run(RestoreRequest.builder("vm").checkpoint(point).build(), RestoreTarget.folder(out, false),
            Progress.NONE);
        for (String disk : images.keySet()) {
          String said = Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
              copyOf(point, disk).toString(), out.resolve(disk + ".raw").toString());
          assertEquals("", said.strip(), point + " " + disk);
        }
      }
    }
  }

  private static DiskDecision decision(BackupResult r, String disk) {
    return r.plan().disks().stream().filter(d -> d.disk().equals(disk)).findFirst().orElseThrow().decision();
  }

  /** Random guest writes, zero writes and discards over the first {@code span} bytes. */
  private void writes(Path img, Random r, int count, int span) throws Exception {
    Path pattern = dir.resolve("pattern");
    byte[] data = new byte[256 << 10];
    r.nextBytes(data);
    for (int i = data.length / 2; i < data.length; i++) {
      data[i] = (byte) "guest log line\n".charAt(i % 15);
    }
    Files.write(pattern, data);
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < count; i++) {
      long off = r.nextInt(span - (256 << 10));
      int len = 1 + r.nextInt(200 << 10);
      cmd.add("-c");
      cmd.add(switch (r.nextInt(6)) {
        case 0 -> "write -q -z " + off + " " + len;
        case 1 -> "discard -q " + (off & ~0xffffL) + " " + (1 << 16);
        default -> "write -q -s " + pattern + " " + off + " " + len;
      });
    }
    cmd.add(img.toString());
    Qemu.run(cmd.toArray(String[]::new));
  }

  private static JsonNode info(Path img) throws Exception {
    return JSON.readTree(Qemu.run("qemu-img", "info", "--output=json", img.toString()));
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"compressed", "extended_l2", "cluster_size=4096", "cluster_size=2097152"})
  void imagesOfEveryLayoutRestoreAtEveryPoint(String layout) throws Exception {
    Random r = new Random(layout.hashCode());
    Path img = dir.resolve("vda.qcow2");
    int span = 24 << 20;
    if (layout.equals("compressed")) {
      Path plain = dir.resolve("plain.qcow2");
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", plain.toString(), "32M");
      writes(plain, r, 40, span);
      Qemu.run("qemu-img", "convert", "-c", "-f", "qcow2", "-O", "qcow2", plain.toString(), img.toString());
    } else {
      String options = layout.equals("extended_l2") ? "extended_l2=on,cluster_size=131072" : layout;
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", options, img.toString(), "32M");
      writes(img, r, 40, span);
    }
    Chain chain = new Chain().disk("vda", img, "qcow2", true);
    for (int p = 1; p <= 3; p++) {
      BackupResult b = chain.checkpoint("cp" + p);
      assertEquals(p == 1 ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, decision(b, "vda"));
      writes(img, r, 10, span);
    }
    if (layout.equals("compressed")) {
      // the source still holds compressed clusters after the writes: the reader had them to decode
      JsonNode check = JSON.readTree(Qemu.run("qemu-img", "check", "--output=json", img.toString()));
      assertTrue(check.path("compressed-clusters").asLong() > 0, "qemu-img check: " + check);
    }
    chain.assertEveryPointRestores();
  }

  /**
   * A disk with data, checkpoint cp1 taken and backed up in full, more writes, then an external
   * snapshot: a new top layer over it, given its own bitmap cp1 when {@code bitmapInOverlay} (as
   * libvirt does; without it, a snapshot taken behind libvirt's back), and writes in that layer.
   */
  private Chain afterExternalSnapshot(Random r, boolean bitmapInOverlay) throws Exception {
    Path base = dir.resolve("base.qcow2");
    Path overlay = dir.resolve("overlay.qcow2");
    int span = 24 << 20;
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "32M");
    writes(base, r, 30, span);
    Chain chain = new Chain().disk("vda", base, "qcow2", true);
    assertEquals(DiskDecision.NO_BASE_BACKUP, decision(chain.checkpoint("cp1"), "vda"));
    writes(base, r, 10, span);
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", overlay.toString());
    if (bitmapInOverlay) {
      Qemu.run("qemu-img", "bitmap", "--add", overlay.toString(), "cp1");
    }
    chain.images.put("vda", overlay);
    writes(overlay, r, 10, span);
    return chain;
  }

  @Test
  void aBackingChainAfterAnExternalSnapshotMergesTheBitmapOfEveryLayer() throws Exception {
    Random r = new Random(31);
    Chain chain = afterExternalSnapshot(r, true);
    BackupResult cp2 = chain.checkpoint("cp2");
    assertEquals(DiskDecision.INCREMENTAL, decision(cp2, "vda"), "changes since cp1 = base's cp1 + overlay's cp1");
    writes(chain.images.get("vda"), r, 10, 24 << 20);
    assertEquals(DiskDecision.INCREMENTAL, decision(chain.checkpoint("cp3"), "vda"));
    chain.assertEveryPointRestores();
  }

  @Test
  void aLayerWithoutTheBitmapMeansAFullCopyWithTheReason() throws Exception {
    Random r = new Random(32);
    Chain chain = afterExternalSnapshot(r, false);
    BackupResult cp2 = chain.checkpoint("cp2");
    assertEquals(DiskDecision.BITMAP_GAP_IN_CHAIN, decision(cp2, "vda"));
    assertTrue(cp2.plan().fallbacks().size() == 1, "reported as a fallback");
    writes(chain.images.get("vda"), r, 10, 24 << 20);
    assertEquals(DiskDecision.INCREMENTAL, decision(chain.checkpoint("cp3"), "vda"), "cp2 is in the overlay");
    chain.assertEveryPointRestores();
  }

  @Test
  void aBitmapRemovedFromTheImageMeansAFullCopyWithTheReason() throws Exception {
    Random r = new Random(35);
    Path img = dir.resolve("vda.qcow2");
    int span = 24 << 20;
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "32M");
    writes(img, r, 30, span);
    Chain chain = new Chain().disk("vda", img, "qcow2", true);
    chain.checkpoint("cp1");
    writes(img, r, 10, span);
    // someone removed the bitmap the increment needs
    Qemu.run("qemu-img", "bitmap", "--remove", img.toString(), "cp1");
    BackupResult cp2 = chain.checkpoint("cp2");
    assertEquals(DiskDecision.BITMAP_MISSING, decision(cp2, "vda"));
    assertTrue(cp2.plan().fallbacks().size() == 1, "reported as a fallback");
    writes(img, r, 10, span);
    assertEquals(DiskDecision.INCREMENTAL, decision(chain.checkpoint("cp3"), "vda"), "cp2 is there");
    chain.assertEveryPointRestores();
  }

  @Test
  void aBitmapLeftInUseByAKilledQemuMeansAFullCopyWithTheReason() throws Exception {
    Random r = new Random(33);
    Path img = dir.resolve("vda.qcow2");
    int span = 24 << 20;
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "32M");
    writes(img, r, 30, span);
    Chain chain = new Chain().disk("vda", img, "qcow2", true);
    chain.checkpoint("cp1");
    // QEMU marks persistent bitmaps in use while it has the image open for writing; killed, it
    // leaves them so (and the image dirty)
    Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", "write -q -P 7 65536 131072", "-c", "sigraise 9",
        img.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("qemu-io.log").toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    JsonNode bitmaps = info(img).path("format-specific").path("data").path("bitmaps");
    assertTrue(bitmaps.get(0).get("flags").toString().contains("in-use"), "qemu-img info: " + bitmaps);
    BackupResult cp2 = chain.checkpoint("cp2");
    assertEquals(DiskDecision.BITMAP_IN_USE, decision(cp2, "vda"));
    chain.assertEveryPointRestores();
  }

  @Test
  void aDomainOfSeveralDisksWithARawOneBacksUpEachAsItCan() throws Exception {
    Random r = new Random(34);
    Path vda = dir.resolve("vda.qcow2");
    Path vdb = dir.resolve("vdb.qcow2");
    Path vdc = dir.resolve("vdc.raw");
    int span = 12 << 20;
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "16M");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=16384", vdb.toString(), "16M");
    Qemu.run("qemu-img", "create", "-q", "-f", "raw", vdc.toString(), "4M");
    writes(vda, r, 20, span);
    writes(vdb, r, 20, span);
    byte[] raw = new byte[1 << 20];
    r.nextBytes(raw);
    // the raw disk's guest wrote qcow2's magic at its start: the domain says raw, so raw it stays
    System.arraycopy(new byte[] {'Q', 'F', 'I', (byte) 0xfb}, 0, raw, 0, 4);
    try (var ch = java.nio.channels.FileChannel.open(vdc, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(raw), 1 << 20);
      ch.write(java.nio.ByteBuffer.wrap(raw, 0, 4096), 0);
    }
    Chain chain = new Chain().disk("vda", vda, "qcow2", true).disk("vdb", vdb, "qcow2", true)
        .disk("vdc", vdc, "raw", false);
    BackupResult cp1 = chain.checkpoint("cp1");
    assertEquals(DiskDecision.NOT_TRACKED, decision(cp1, "vdc"));
    writes(vda, r, 8, span);
    writes(vdb, r, 8, span);
    BackupResult cp2 = chain.checkpoint("cp2");
    assertEquals(DiskDecision.INCREMENTAL, decision(cp2, "vda"));
    assertEquals(DiskDecision.INCREMENTAL, decision(cp2, "vdb"));
    assertEquals(DiskDecision.NOT_TRACKED, decision(cp2, "vdc"));
    chain.assertEveryPointRestores();
  }

  /**
   * Allocated clusters holding zeroes (written as data, as a guest's zeroed file leaves them), whole
   * chunks of them and runs in chunks, and chunks of zeroes but one byte (the last, the first, one
   * between), at seeded places: restored byte for byte at every point; the zeroes are found
   * (a chunk of them stores a few hundred bytes), a single non-zero byte is not lost.
   */
  @ParameterizedTest(name = "seed {0}")
  @ValueSource(ints = {1, 2, 3, 4})
  void chunksOfAllocatedZeroesRestoreExactlyAndOneByteIsNotLost(int seed) throws Exception {
    Random r = new Random(seed);
    Path img = dir.resolve("vda.qcow2");
    int chunk = 1 << 20;
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", img.toString(), "24M");
    Chain chain = new Chain().disk("vda", img, "qcow2", true);
    for (int p = 1; p <= 2; p++) {
      List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
      for (int i = 0; i < 24; i++) {
        long at = (long) i * chunk;
        int kind = r.nextInt(5);
        if (p == 2 && r.nextInt(3) > 0) {
          continue;
        }
        // -P 0: data clusters of zeroes (qemu-io detects no zeroes unless asked)
        cmd.addAll(List.of("-c", "write -q -P 0 " + at + " " + chunk));
        switch (kind) {
          case 0 -> cmd.addAll(List.of("-c", "write -q -P " + (1 + r.nextInt(255)) + " " + (at + chunk - 1) + " 1"));
          case 1 -> cmd.addAll(List.of("-c", "write -q -P " + (1 + r.nextInt(255)) + " " + at + " 1"));
          case 2 -> cmd.addAll(List.of("-c", "write -q -P " + (1 + r.nextInt(255)) + " " + (at + r.nextInt(chunk)) + " 1"));
          case 3 -> cmd.addAll(List.of("-c", "write -q -P 0x5a " + (at + (r.nextInt(16) << 16)) + " 65536"));
          default -> { } // all zeroes
        }
      }
      cmd.add(img.toString());
      Qemu.run(cmd.toArray(String[]::new));
      BackupResult b = chain.checkpoint("cp" + p);
      BackupResult.DiskResult d = b.disks().get(0);
      assertTrue(d.bytesStored() < d.bytesRead() / 20, d.bytesStored() + " stored of " + d.bytesRead());
    }
    chain.assertEveryPointRestores();
  }
}
