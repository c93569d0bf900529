package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.Repository;
import org.tidemark.disk.Extent;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.ImageFormat;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;

/**
 * A checkpoint chain on a real qcow2 image that QEMU writes: bitmap cp1, writes, cp2, writes, cp3,
 * writes; libvirt style (all bitmaps enabled) and old style (each earlier bitmap disabled when the
 * next is added). At each checkpoint the disk is copied by {@code qemu-img convert}; a full backup
 * at cp1 and incrementals after it must restore, at every point, to what {@code qemu-img compare}
 * finds identical to that copy, and thin (no more data than the source had allocated); restored to
 * qcow2 ({@link ImageFormat#QCOW2}) too, each point is clean by {@code qemu-img check}, identical by
 * {@code qemu-img compare} and thin.
 */
class QemuChainBackupTest {
  @TempDir Path dir;

  private void writes(Path img, Random r, int count) throws Exception {
    Path pattern = dir.resolve("pattern");
    byte[] data = new byte[256 << 10];
    r.nextBytes(data);
    Files.write(pattern, data);
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < count; i++) {
      long off = (long) r.nextInt(31 << 20);
      int len = 1 + r.nextInt(200 << 10);
      cmd.add("-c");
      cmd.add(switch (r.nextInt(5)) {
        case 0 -> "write -q -z " + off + " " + len;
        case 1 -> "discard -q " + (off & ~0xffffL) + " " + (1 << 16);
        default -> "write -q -s " + pattern + " " + off + " " + len;
      });
    }
    cmd.add(img.toString());
    Qemu.run(cmd.toArray(String[]::new));
  }

  private static long dataBytes(List<Extent> map) {
    return map.stream().filter(e -> !e.zero()).mapToLong(Extent::length).sum();
  }

  @ParameterizedTest(name = "old style bitmaps: {0}")
  @ValueSource(booleans = {false, true})
  void everyPointRestoresIdenticalToQemusCopy(boolean oldStyle) throws Exception {
    Random r = new Random(oldStyle ? 11 : 12);
    Path img = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "32M");
    writes(img, r, 40);
    DomainDefinition domain = new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", "vm",
        Optional.empty(), List.of(DomainDisk.of("vda", img.toString(), "qcow2")));
    Repository repo = Repository.at(dir.resolve("repo"));
    Map<String, Checkpoint> known = new HashMap<>();
    String parent = null;
    for (int p = 1; p <= 3; p++) {
      String name = "cp" + p;
      if (oldStyle && parent != null) {
        Qemu.run("qemu-img", "bitmap", "--disable", img.toString(), parent);
      }
      Qemu.run("qemu-img", "bitmap", "--add", img.toString(), name);
      Qemu.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", img.toString(), dir.resolve(name + ".raw").toString());
      Checkpoint y = Checkpoint.builder().name(name).parentName(parent).creationTime(1000 + p).domain(domain)
          .addDisk(CheckpointDisk.bitmap("vda", name)).build();
      BackupResult b = new BackupRunner(repo).run(BackupRequest.builder(y, disk -> Qcow2Image.open(img))
          .knownCheckpoints(known).chunkSize(1 << 20).toolVersion("test").build(), Progress.NONE);
      assertEquals(p == 1 ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, b.plan().disks().get(0).decision());
      assertEquals(List.of(), ArchiveVerifier.verify(b.archive()));
      known.put(name, y);
      parent = name;
      writes(img, r, 12);
    }
    long sourceData = dataBytes(Qemu.map(img));
    for (int p = 1; p <= 3; p++) {
      Path out = dir.resolve("restore-" + p);
      new RestoreRunner(repo).run(RestoreRequest.builder("vm").checkpoint("cp" + p).build(), RestoreTarget.folder(out, false), Progress.NONE);
      Path restored = out.resolve("vda.raw");
      String said = Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
          dir.resolve("cp" + p + ".raw").toString(), restored.toString());
      assertEquals("", said.strip(), "cp" + p);
      long restoredData = dataBytes(rawMap(restored));
      assertTrue(restoredData <= sourceData + (1 << 20),
          "cp" + p + ": restore is thin (" + restoredData + " bytes of data, source had " + sourceData + " allocated)");

      // the same point restored to qcow2, written by Tidemark: clean, identical, thin
      Path outQ = dir.resolve("restore-qcow2-" + p);
      RestoreResult rq = new RestoreRunner(repo).run(RestoreRequest.builder("vm").checkpoint("cp" + p).format(ImageFormat.QCOW2).build(), RestoreTarget.folder(outQ, false), Progress.NONE);
      Path qcow2 = outQ.resolve("vda.qcow2");
      assertEquals(qcow2, rq.disks().get(0).image());
      assertEquals(ImageFormat.QCOW2, rq.disks().get(0).format());
      Qemu.run("qemu-img", "check", "-q", "-f", "qcow2", qcow2.toString()); // exits non-zero on corruption or leaks
      said = Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "qcow2",
          dir.resolve("cp" + p + ".raw").toString(), qcow2.toString());
      assertEquals("", said.strip(), "cp" + p + " as qcow2");
      long qcow2Data = dataBytes(Qemu.map(qcow2));
      assertTrue(qcow2Data <= sourceData + (1 << 20),
          "cp" + p + ": qcow2 restore is thin (" + qcow2Data + " bytes of data, source had " + sourceData + " allocated)");
      assertTrue(Files.size(qcow2) <= qcow2Data + (1 << 20), "cp" + p + ": metadata within 1 MiB (" + Files.size(qcow2) + ")");
      assertHostOrderFollowsGuestOrder(qcow2, "cp" + p);
      System.out.printf("cp%d: source %d bytes allocated, raw restore %d bytes of data, qcow2 restore %d bytes of data"
          + " in a %d-byte file%n", p, sourceData, restoredData, qcow2Data, Files.size(qcow2));
      try (Qcow2Image q = Qcow2Image.open(qcow2); org.tidemark.disk.DiskSource r0 = org.tidemark.image.Images.open(restored)) {
        byte[] a = new byte[(int) q.virtualSize()];
        byte[] b = new byte[(int) r0.virtualSize()];
        q.readFully(0, java.nio.ByteBuffer.wrap(a));
        r0.readFully(0, java.nio.ByteBuffer.wrap(b));
        assertTrue(java.util.Arrays.equals(a, b), "cp" + p + ": our reader reads the qcow2 as the raw restore");
      }
    }
  }

  /**
   * The restore writes the image front to back, so its data clusters lie in the file in guest
   * order (as {@code qemu-img convert} lays them out), however the chain cut them: by qemu-img map,
   * each data extent's host offset is above the previous one's.
   */
  private static void assertHostOrderFollowsGuestOrder(Path qcow2, String what) throws Exception {
    com.fasterxml.jackson.databind.JsonNode map = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", qcow2.toString()));
    long previousEnd = -1;
    int extents = 0;
    for (com.fasterxml.jackson.databind.JsonNode e : map) {
      if (e.get("data").asBoolean()) {
        long host = e.get("offset").asLong();
        assertTrue(host >= previousEnd, what + ": guest " + e.get("start").asLong() + " lies at host " + host
            + ", before the data of the guest range in front of it (ending at host " + previousEnd + ")");
        previousEnd = host + e.get("length").asLong();
        extents++;
      }
    }
    assertTrue(extents > 1, what + ": qemu-img map shows " + extents + " data extents");
  }

  /** qemu-img map of a raw file: its data and holes as the file system reports them. */
  private static List<Extent> rawMap(Path raw) throws Exception {
    com.fasterxml.jackson.databind.JsonNode map = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "raw", raw.toString()));
    List<Extent> out = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode e : map) {
      out.add(new Extent(e.get("start").asLong(), e.get("length").asLong(), !e.get("data").asBoolean()));
    }
    return out;
  }
}
