package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.libvirt.LibvirtSandbox;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark restore --define NEWNAME} against a real libvirtd (QEMU driver): the backup of a
 * running domain is restored and defined under a new name, and libvirt boots it on the restored
 * image while the original still runs on its own (QEMU's image locks would refuse a second writer
 * of the original disk). A name libvirt already has is refused before anything is written.
 */
@Timeout(600)
class RestoreDefineLiveTest {
  @TempDir Path dir;

  @Test
  void aRestoredDomainDefinedUnderANewNameBootsOnTheRestoredImage() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path vda = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", vda.toString(), "64M");
    String name = "tm-def-" + ProcessHandle.current().pid();
    String copy = name + "-restored";
    libvirt.virsh("define", Files.writeString(dir.resolve("d.xml"), libvirt.domainXml(name, List.of(vda))).toString());
    libvirt.virsh("start", name);
    Path repo = dir.resolve("repo");
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    Path out = dir.resolve("out");
    try {
      libvirt.guestWrite(name, 0, "write -P 0x5a 3M 64k");
      Cli.Result b = Cli.run("backup", "--repo", repo.toString(), "--domain", name, "--connect", libvirt.uri(), "--work-dir",
          work.toString());
      assertEquals(ExitCodes.OK, b.code(), b.toString());

      Cli.Result taken = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--to", out.toString(), "--define", name,
          "--connect", libvirt.uri());
      assertEquals(ExitCodes.WOULD_OVERWRITE, taken.code(), taken.toString());
      assertTrue(taken.err().contains("a domain named '" + name + "' is already defined"), taken.toString());
      assertFalse(Files.exists(out), "nothing written");

      Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", name, "--to", out.toString(), "--format", "qcow2",
          "--define", copy, "--connect", libvirt.uri());
      assertEquals(ExitCodes.OK, r.code(), r.toString());
      assertTrue(r.out().contains("defined " + copy + " in libvirt"), r.toString());
      assertTrue(Files.exists(out.resolve(copy + ".xml")), r.toString());
      String defined = libvirt.virsh("dumpxml", copy, "--inactive");
      assertFalse(defined.contains(vda.toString()), "the restored definition names the original disk:\n" + defined);

      libvirt.virsh("start", copy); // the original runs on: a shared disk would fail on QEMU's write lock
      Path image = out.resolve("vda.qcow2").toAbsolutePath();
      String disks = libvirt.virsh("domblklist", copy, "--details");
      assertTrue(disks.matches("(?s).*file\\s+disk\\s+vda\\s+" + java.util.regex.Pattern.quote(image.toString()) + "\\s.*"), disks);
      // the image the restored domain runs on holds what the guest wrote before the backup (qemu-io
      // shares the running domain's image read-only; it fails on a pattern mismatch)
      String read = Qemu.run("qemu-io", "-U", "-r", "-f", "qcow2", "-c", "read -P 0x5a 3M 64k", image.toString());
      assertTrue(read.contains("read 65536/65536 bytes") && !read.contains("Pattern verification failed"), read);
      String uuidOriginal = libvirt.virsh("domuuid", name).strip();
      String uuidCopy = libvirt.virsh("domuuid", copy).strip();
      assertFalse(uuidOriginal.equals(uuidCopy), "a new UUID: " + uuidCopy);
    } finally {
      for (String d : List.of(copy, name)) {
        LibvirtSandbox.run(List.of("virsh", "-c", libvirt.uri(), "destroy", d), 60);
        LibvirtSandbox.run(List.of("virsh", "-c", libvirt.uri(), "undefine", d, "--checkpoints-metadata"), 60);
      }
    }
  }
}
