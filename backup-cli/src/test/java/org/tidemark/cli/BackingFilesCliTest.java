package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.qcow2.Qemu;

/**
 * An overlay whose base image lies in another folder (a template store): backed up when the
 * checkpoint's domain XML declares the base in {@code <backingStore>}, as libvirt writes it for a
 * running domain, or when {@code --allow-backing} names it; refused otherwise (exit 3, one line
 * naming the base and the option), since an image header alone may name any file.
 */
class BackingFilesCliTest {
  @TempDir Path dir;
  Path base;
  Path top;
  String checkpoint;

  @BeforeEach
  void overlayOnATemplate() throws Exception {
    base = Files.createDirectories(dir.resolve("templates")).resolve("base.qcow2");
    top = Files.createDirectories(dir.resolve("vms")).resolve("top.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "64M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 2M", base.toString());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x22 1M 64k", top.toString());
    checkpoint = Files.readString(Path.of("..", "sample", "checkpoints", "cp1.xml"))
        .replace("/var/lib/libvirt/images/sample-vda.qcow2", top.toString());
  }

  private Cli.Result backup(String xml, String... more) throws Exception {
    Path cp = Files.writeString(dir.resolve("cp1.xml"), xml);
    String[] base = {"backup", "--repo", dir.resolve("repo").toString(), "--checkpoint", cp.toString(), "--full"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return Cli.run(all);
  }

  @Test
  void aBaseOutsideTheFolderIsRefusedUnlessDeclaredOrAllowed() throws Exception {
    Cli.Result refused = backup(checkpoint);
    assertEquals(ExitCodes.INVALID_INPUT, refused.code(), refused.toString());
    String err = refused.err().strip();
    assertFalse(err.contains("\n"), refused.toString());
    assertTrue(err.contains("backing file " + base), err);
    assertTrue(err.endsWith("give --allow-backing " + base), err);

    Cli.Result allowed = backup(checkpoint, "--allow-backing", dir.resolve("templates").toString());
    assertEquals(ExitCodes.OK, allowed.code(), allowed.toString());
    restoresEqualToTheOverlay("cp1");
  }

  @Test
  void aBaseTheDomainXmlDeclaresIsFollowed() throws Exception {
    String declared = checkpoint.replace("<target dev='vda' bus='virtio'/>", "<backingStore type='file'>\n"
        + "          <format type='qcow2'/>\n          <source file='" + base + "'/>\n          <backingStore/>\n"
        + "        </backingStore>\n        <target dev='vda' bus='virtio'/>");
    assertTrue(declared.contains("<backingStore type='file'>"), "the sample's disk has its target line");
    Cli.Result r = backup(declared);
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    restoresEqualToTheOverlay("cp1");
  }

  private void restoresEqualToTheOverlay(String point) throws Exception {
    Path out = dir.resolve("out-" + System.nanoTime());
    Cli.Result r = Cli.run("restore", "--repo", dir.resolve("repo").toString(), "--domain", "sample", "--checkpoint",
        point, "--to", out.toString());
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    Qemu.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", out.resolve("vda.raw").toString(), top.toString());
  }
}
