package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.qcow2.Qemu;

/**
 * Live backups of one domain whose disks and definition change under the chain, against a real
 * libvirtd: a disk hot-plugged ({@code virsh attach-disk}), a disk whose image is replaced by another
 * file (backed up shut off, then running), a disk whose image is recreated under the same name, the domain undefined and defined again
 * (a new UUID, libvirt's checkpoints gone), and libvirt's checkpoint metadata deleted. Each changed
 * disk is copied in full with its own stable reason while the others stay incremental; a lost chain
 * restarts with a full backup and a stable reason; the next backup is incremental again.
 *
 * <p>Ground truth as in {@link ShutOffDomainCliTest}: every write made on a raw shadow too, by
 * {@code qemu-io}; each point restores identical to the shadows as they were.
 */
@Timeout(900)
class DiskChangesCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void addedReplacedAndRecreatedDisksAndARedefinedDomainEachPointRestores() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    ShutOffDomainCliTest.Shadows disks = new ShutOffDomainCliTest.Shadows(dir, Map.of("vda", "64M", "vdb", "32M"));
    String name = libvirt.startDomain("tm-chg-", List.of(disks.image("vda"), disks.image("vdb")), dir);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    List<String> points = new ArrayList<>();
    try {
      disks.guest(libvirt, name, "vda", "write -P 0x11 1M 1M");
      disks.guest(libvirt, name, "vdb", "write -P 0x12 2M 64k");
      points.add(point(disks, backup(libvirt, repo, work, name, ExitCodes.OK)));

      // a disk hot-plugged: copied in full, the others incremental
      Path vdc = disks.add("vdc", "16M");
      libvirt.virsh("attach-disk", name, vdc.toString(), "vdc", "--driver", "qemu", "--subdriver", "qcow2",
          "--targetbus", "virtio", "--persistent");
      disks.guest(libvirt, name, "vdc", "write -P 0x13 3M 64k");
      disks.guest(libvirt, name, "vda", "write -P 0x14 5M 64k");
      JsonNode added = backup(libvirt, repo, work, name, ExitCodes.PARTIAL);
      assertDecisions(added, Map.of("vda", "incremental", "vdb", "incremental", "vdc", "new-disk"));
      assertEquals(64 << 10, ShutOffDomainCliTest.diskField(added, "vda", "bytesRead"), added.toString());
      assertEquals(0, ShutOffDomainCliTest.diskField(added, "vdb", "bytesRead"), added.toString());
      points.add(point(disks, added));

      disks.guest(libvirt, name, "vdc", "write -P 0x15 8M 64k");
      JsonNode again = backup(libvirt, repo, work, name, ExitCodes.OK);
      assertDecisions(again, Map.of("vda", "incremental", "vdb", "incremental", "vdc", "incremental"));
      assertEquals(64 << 10, ShutOffDomainCliTest.diskField(again, "vdc", "bytesRead"), again.toString());
      points.add(point(disks, again));

      // vdb's image replaced by another file (same size): disk-replaced, naming both files
      libvirt.virsh("destroy", name);
      Path oldVdb = disks.image("vdb");
      Path newVdb = disks.add("vdb", "32M", "vdb-new.qcow2");
      redefine(libvirt, name, oldVdb, newVdb, false);
      disks.offline("vdb", "write -P 0x1d 2M 64k");
      JsonNode offline = backup(libvirt, repo, work, name, ExitCodes.PARTIAL); // shut off: from the image files
      assertEquals("shut off", offline.get("domainState").asText(), offline.toString());
      assertDecisions(offline, Map.of("vda", "incremental", "vdb", "disk-replaced", "vdc", "incremental"));
      points.add(point(disks, offline));
      libvirt.virsh("start", name);
      disks.guest(libvirt, name, "vdb", "write -P 0x16 4M 64k");
      disks.guest(libvirt, name, "vda", "write -P 0x17 9M 64k");
      JsonNode replaced = backup(libvirt, repo, work, name, ExitCodes.PARTIAL);
      assertDecisions(replaced, Map.of("vda", "incremental", "vdb", "disk-replaced", "vdc", "incremental"));
      String reason = disk(replaced, "vdb").get("reason").asText();
      assertTrue(reason.contains(oldVdb.toString()) && reason.contains(newVdb.toString()), reason);
      points.add(point(disks, replaced));

      // vdc's image recreated under the same name: libvirt refuses that disk's incremental; only it is full
      libvirt.virsh("destroy", name);
      disks.add("vdc", "16M");
      libvirt.virsh("start", name);
      disks.guest(libvirt, name, "vdc", "write -P 0x18 1M 64k");
      disks.guest(libvirt, name, "vdb", "write -P 0x19 6M 64k");
      JsonNode recreated = backup(libvirt, repo, work, name, ExitCodes.PARTIAL);
      assertDecisions(recreated, Map.of("vda", "incremental", "vdb", "incremental", "vdc", "bitmap-in-use"));
      points.add(point(disks, recreated));

      // undefined and defined again: a new UUID, no checkpoints in libvirt
      libvirt.virsh("destroy", name);
      String uuid = libvirt.virsh("domuuid", name).strip();
      redefine(libvirt, name, newVdb, newVdb, true);
      libvirt.virsh("start", name);
      assertTrue(!uuid.equals(libvirt.virsh("domuuid", name).strip()), "a new UUID");
      disks.guest(libvirt, name, "vda", "write -P 0x1a 11M 64k");
      JsonNode redefined = backup(libvirt, repo, work, name, ExitCodes.PARTIAL);
      assertEquals("full", redefined.get("kind").asText(), redefined.toString());
      assertEquals("domain-redefined", redefined.get("chainBreak").get("code").asText(), redefined.toString());
      assertTrue(redefined.get("chainBreak").get("detail").asText().contains(uuid), redefined.toString());
      points.add(point(disks, redefined));

      disks.guest(libvirt, name, "vdb", "write -P 0x1b 7M 64k");
      JsonNode after = backup(libvirt, repo, work, name, ExitCodes.OK);
      assertDecisions(after, Map.of("vda", "incremental", "vdb", "incremental", "vdc", "incremental"));
      assertTrue(after.get("chainBreak").isNull(), after.toString());
      points.add(point(disks, after));

      // libvirt's checkpoint metadata deleted behind Tidemark's back, same UUID
      for (String c : libvirt.virsh("checkpoint-list", name, "--name").strip().split("\\s+")) {
        libvirt.virsh("checkpoint-delete", name, c, "--metadata");
      }
      disks.guest(libvirt, name, "vdc", "write -P 0x1c 12M 64k");
      JsonNode lost = backup(libvirt, repo, work, name, ExitCodes.PARTIAL);
      assertEquals("full", lost.get("kind").asText(), lost.toString());
      assertEquals("checkpoints-lost", lost.get("chainBreak").get("code").asText(), lost.toString());
      points.add(point(disks, lost));

      libvirt.virsh("destroy", name);
      disks.assertImagesEqualShadows();
      for (String p : points) {
        Path out = dir.resolve("restore-" + p);
        Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--checkpoint", p, "--to",
            out.toString());
        assertEquals(ExitCodes.OK, r.code(), r.toString());
        disks.assertRestored(p, out);
      }
    } finally {
      libvirt.removeDomain(name);
    }
  }

  /** Runs a backup that must exit with {@code code}; returns its JSON document. */
  private static JsonNode backup(LibvirtSandbox libvirt, Path repo, Path work, String domain, int code)
      throws Exception {
    Thread.sleep(1100); // checkpoint names are stamped to the second
    Cli.Result r = ShutOffDomainCliTest.run(libvirt, repo, work, domain);
    assertEquals(code, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  /** Keeps the shadows as the point's ground truth; returns the point's name. */
  private static String point(ShutOffDomainCliTest.Shadows disks, JsonNode backup) throws Exception {
    String p = backup.get("checkpoint").asText();
    disks.snapshot(p);
    return p;
  }

  private static JsonNode disk(JsonNode backup, String disk) {
    for (JsonNode d : backup.get("disks")) {
      if (d.get("disk").asText().equals(disk)) {
        return d;
      }
    }
    throw new AssertionError("no disk " + disk + " in " + backup);
  }

  private static void assertDecisions(JsonNode backup, Map<String, String> expected) {
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertEquals(e.getValue(), disk(backup, e.getKey()).get("decision").asText(), backup.toString());
    }
  }

  /**
   * Defines the domain again from its inactive XML with {@code from} replaced by {@code to}; when
   * {@code newUuid}, undefines it first (its checkpoints' metadata too) and defines it without its
   * UUID (libvirt makes a new one).
   */
  private void redefine(LibvirtSandbox libvirt, String name, Path from, Path to, boolean newUuid) throws Exception {
    String xml = libvirt.virsh("dumpxml", "--inactive", name).replace("'" + from + "'", "'" + to + "'");
    if (newUuid) {
      xml = xml.replaceAll("\\s*<uuid>[^<]*</uuid>", "");
      libvirt.virsh("undefine", name, "--checkpoints-metadata");
    }
    Path f = Files.writeString(dir.resolve(name + "-redefined.xml"), xml);
    libvirt.virsh("define", f.toString());
  }
}
