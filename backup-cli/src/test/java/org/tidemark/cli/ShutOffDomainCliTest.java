package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark backup --domain} of a domain that is shut off between live backups, against a real
 * libvirtd: a live full, then the domain shut down and written offline by {@code qemu-io} (QEMU
 * records those writes in the checkpoint's bitmap too), an offline incremental through
 * {@code --domain} read from the image files, another offline write, the domain started again and a
 * live incremental. libvirt gets no checkpoint for the offline point, and the live incremental is
 * based on the live full, so it carries every write since (none missed).
 *
 * <p>Ground truth: every write is also made, by {@code qemu-io}, on a raw shadow file per disk, and
 * the shadows are copied at each backup; each point restores identical to its copies ({@code qemu-img
 * compare}), and at the end the images themselves equal the shadows.
 */
@Timeout(600)
class ShutOffDomainCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void liveFullOfflineIncrementalLiveIncrementalEachPointRestoresAsTheDisksWere() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Shadows disks = new Shadows(dir, Map.of("vda", "64M", "vdb", "32M"));
    String name = libvirt.startDomain("tm-off-", List.of(disks.image("vda"), disks.image("vdb")), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try {
      disks.guest(libvirt, name, "vda", "write -P 0xa1 1M 2M");
      disks.guest(libvirt, name, "vdb", "write -P 0xb1 4M 64k");
      JsonNode full = backup(libvirt, repo, work, name);
      assertEquals("full", full.get("kind").asText(), full.toString());
      assertEquals("running", full.get("domainState").asText());
      String cp1 = full.get("checkpoint").asText();
      disks.snapshot(cp1);

      disks.guest(libvirt, name, "vda", "write -P 0xa2 8M 64k"); // before the shutdown: in QEMU's bitmap
      libvirt.virsh("destroy", name); // QEMU flushes the images and writes the bitmaps into them
      disks.offline("vdb", "write -P 0xb2 9M 128k"); // while shut off: QEMU's block layer records it too
      String checkpointsBefore = libvirt.virsh("checkpoint-list", name, "--name");

      JsonNode off = backup(libvirt, repo, work, name);
      assertEquals("shut off", off.get("domainState").asText(), off.toString());
      assertEquals("incremental", off.get("kind").asText(), off.toString());
      assertEquals(cp1, off.get("base").asText());
      String offPoint = off.get("checkpoint").asText();
      assertTrue(offPoint.startsWith("tidemark-") && offPoint.endsWith("-offline"), offPoint);
      for (JsonNode d : off.get("disks")) {
        assertEquals("incremental", d.get("decision").asText(), d.toString());
        assertEquals(disks.image(d.get("disk").asText()).toString(), d.get("source").asText(), d.toString());
      }
      assertEquals(64 << 10, diskField(off, "vda", "bytesRead"), off.toString());
      assertEquals(128 << 10, diskField(off, "vdb", "bytesRead"), off.toString());
      assertEquals(checkpointsBefore, libvirt.virsh("checkpoint-list", name, "--name"), "libvirt's checkpoints untouched");
      disks.snapshot(offPoint);

      disks.offline("vda", "write -P 0xa3 20M 64k"); // after the offline backup, still shut off
      libvirt.virsh("start", name);
      disks.guest(libvirt, name, "vdb", "write -P 0xb3 12M 64k");
      Thread.sleep(1100); // checkpoint names are stamped to the second
      JsonNode inc = backup(libvirt, repo, work, name);
      assertEquals("running", inc.get("domainState").asText());
      assertEquals("incremental", inc.get("kind").asText(), inc.toString());
      assertEquals(cp1, inc.get("base").asText(), "based on libvirt's checkpoint, not on the offline point");
      // every write since cp1: 0xa2 and 0xa3 on vda; 0xb2 and 0xb3 on vdb
      assertEquals(128 << 10, diskField(inc, "vda", "bytesRead"), inc.toString());
      assertEquals(192 << 10, diskField(inc, "vdb", "bytesRead"), inc.toString());
      String cp2 = inc.get("checkpoint").asText();
      disks.snapshot(cp2);
      assertEquals(List.of(cp2), List.of(libvirt.virsh("checkpoint-list", name, "--name").strip().split("\\s+")));

      libvirt.virsh("destroy", name);
      disks.assertImagesEqualShadows();
      for (String point : List.of(cp1, offPoint, cp2)) {
        Path out = dir.resolve("restore-" + point);
        Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--checkpoint", point, "--to",
            out.toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        disks.assertRestored(point, out);
      }
      assertEquals(ExitCodes.OK, Cli.run("verify", "--repo", repo.toString()).code());
    } finally {
      libvirt.removeDomain(name);
    }
  }

  /** Runs a backup that must exit 0, and returns its JSON document. */
  static JsonNode backup(LibvirtSandbox libvirt, Path repo, Path work, String domain, String... more) throws Exception {
    Cli.Result r = run(libvirt, repo, work, domain, more);
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  static Cli.Result run(LibvirtSandbox libvirt, Path repo, Path work, String domain, String... more) {
    List<String> args = new ArrayList<>(List.of("backup", "--repo", repo.toString(), "--domain", domain, "--connect",
        libvirt.uri(), "--work-dir", work.toString(), "--json"));
    args.addAll(List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  static long diskField(JsonNode backup, String disk, String field) {
    for (JsonNode d : backup.get("disks")) {
      if (d.get("disk").asText().equals(disk)) {
        return d.get(field).asLong();
      }
    }
    throw new AssertionError("no disk " + disk + " in " + backup);
  }

  /**
   * The domain's qcow2 images and, per disk, a raw shadow that gets every write too (by {@code
   * qemu-io}, outside Tidemark): the ground truth of each point.
   */
  static final class Shadows {
    private final Path dir;
    private final Map<String, Path> images = new LinkedHashMap<>();
    private final Map<String, Path> shadows = new LinkedHashMap<>();

    Shadows(Path dir, Map<String, String> sizes) throws Exception {
      this.dir = dir;
      for (String disk : sizes.keySet().stream().sorted().toList()) {
        add(disk, sizes.get(disk));
      }
    }

    /** Adds a disk (its empty image and shadow), or replaces it by a new empty one. */
    Path add(String disk, String size) throws Exception {
      return add(disk, size, disk + ".qcow2");
    }

    /** Adds a disk whose image is the file {@code imageName}, or replaces it (a new empty image and shadow). */
    Path add(String disk, String size, String imageName) throws Exception {
      Path image = dir.resolve(imageName);
      Path shadow = dir.resolve(disk + ".shadow.raw");
      Files.deleteIfExists(image);
      Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), size);
      Files.deleteIfExists(shadow);
      Qemu.run("qemu-img", "create", "-q", "-f", "raw", shadow.toString(), size);
      images.put(disk, image);
      shadows.put(disk, shadow);
      return image;
    }

    Path image(String disk) {
      return images.get(disk);
    }

    /** A guest write on {@code disk}, the N-th disk of the running domain (in target order). */
    void guest(LibvirtSandbox libvirt, String domain, String disk, String command) throws Exception {
      libvirt.guestWrite(domain, List.copyOf(images.keySet()).indexOf(disk), command);
      shadow(disk, command);
    }

    /** A write on the image of the shut-off domain. */
    void offline(String disk, String command) throws Exception {
      Qemu.run("qemu-io", "-f", "qcow2", "-c", command, images.get(disk).toString());
      shadow(disk, command);
    }

    private void shadow(String disk, String command) throws Exception {
      Qemu.run("qemu-io", "-f", "raw", "-c", command, shadows.get(disk).toString());
    }

    /** Keeps the disks' contents now as those of {@code point}. */
    void snapshot(String point) throws Exception {
      for (Map.Entry<String, Path> s : shadows.entrySet()) {
        Files.copy(s.getValue(), dir.resolve(point + "-" + s.getKey() + ".raw"));
      }
    }

    /** Every disk restored to {@code out} equals its copy kept at {@code point}. */
    void assertRestored(String point, Path out) throws Exception {
      for (String disk : shadows.keySet()) {
        Path kept = dir.resolve(point + "-" + disk + ".raw");
        if (Files.exists(kept)) {
          Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "raw", out.resolve(disk + ".raw").toString(),
              kept.toString());
        }
      }
    }

    /** The ground truth is sound: the images (the domain shut off) hold what their shadows hold. */
    void assertImagesEqualShadows() throws Exception {
      for (String disk : images.keySet()) {
        Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw", images.get(disk).toString(),
            shadows.get(disk).toString());
      }
    }
  }
}
