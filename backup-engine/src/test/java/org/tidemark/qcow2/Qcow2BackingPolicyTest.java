package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.RawImage;
import org.tidemark.disk.UnsupportedImageException;

/**
 * Which backing files the reader follows ({@link BackingPolicy}, docs/qcow2.md "Backing chains"): an
 * image's header alone cannot lead it out of the top image's folder tree (issue 20: a backing name
 * of /etc/shadow was read into the backup; an external data file name could do the same), nor to a file of the kernel's pseudo file systems
 * (issue 20: /proc/kmsg, whose reads block and consume the kernel log), nor to anything that is not
 * a regular file or a block device. Refusals come before the file is opened, so none can block.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked read ignores interrupts
class Qcow2BackingPolicyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** A header-only overlay naming {@code backing} (format {@code format}, or none: then probed). */
  private Path overlay(Path at, String backing, String format) throws Exception {
    Files.createDirectories(at.getParent());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=512", "-u", "-b", backing, "-F",
        format == null ? "raw" : format, at.toString(), "64K");
    if (format == null) { // rename the backing format extension to an unknown (ignored) one
      ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(at));
      int pos = b.getInt(100);
      while (b.getInt(pos) != 0xe2792aca) {
        assertTrue(b.getInt(pos) != 0, "no backing format extension");
        pos += 8 + ((b.getInt(pos + 4) + 7) & ~7);
      }
      b.putInt(pos, 0x7e57ed00);
      Files.write(at, b.array());
    }
    return at;
  }

  private static BackingFileRefusedException refusedByPolicy(Path img, String backing) {
    BackingFileRefusedException e = assertThrows(BackingFileRefusedException.class, () -> Qcow2Image.open(img).close());
    assertEquals(Path.of(backing), e.backingFile());
    assertTrue(e.getMessage().startsWith(img + ": backing file " + backing), e.getMessage());
    assertTrue(e.getMessage().contains("lies outside " + img.getParent().toAbsolutePath()), e.getMessage());
    assertTrue(e.getMessage().contains("declares it in <backingStore>, or the caller allows it"), e.getMessage());
    return e;
  }

  @Test
  void aBackingFileNamedEtcShadowIsNotFollowed() throws Exception {
    assertTrue(Files.exists(Path.of("/etc/shadow")));
    refusedByPolicy(overlay(dir.resolve("shadow.qcow2"), "/etc/shadow", "raw"), "/etc/shadow");
    refusedByPolicy(overlay(dir.resolve("shadow-probed.qcow2"), "/etc/shadow", null), "/etc/shadow");
    refusedByPolicy(overlay(dir.resolve("a/b/up.qcow2"), "../../../../../../../../etc/shadow", "raw"),
        dir.resolve("a/b/../../../../../../../../etc/shadow").toString());
  }

  @Test
  void anExternalDataFileNamedEtcShadowIsNotRead() throws Exception {
    Path img = dir.resolve("data-file.qcow2");
    // QEMU 7.2 creates a relative data file in its working folder: run it in the image's
    Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-o", "data_file=datafile.ab", img.toString(), "1M")
        .directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), out);
    assertTrue(Files.exists(dir.resolve("datafile.ab")), out);
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(img));
    byte[] name = "datafile.ab".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int at = -1;
    for (int i = 0; i + name.length <= 65536 && at < 0; i++) {
      if (b.slice(i, name.length).equals(ByteBuffer.wrap(name))) {
        at = i;
      }
    }
    assertTrue(at > 0, "the data file name is in the header");
    b.put(at, "/etc/shadow".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    Files.write(img, b.array());
    BackingFileRefusedException e = assertThrows(BackingFileRefusedException.class, () -> Qcow2Image.open(img).close());
    assertEquals(Path.of("/etc/shadow"), e.backingFile());
    assertTrue(e.getMessage().startsWith(img + ": external data file /etc/shadow"), e.getMessage());
    assertTrue(e.getMessage().contains("lies outside " + dir.toAbsolutePath()), e.getMessage());
  }

  @Test
  void aLinkInTheFolderLeadingOutsideIsNotFollowed() throws Exception {
    Files.createSymbolicLink(dir.resolve("base.raw"), Path.of("/etc/shadow"));
    Path img = overlay(dir.resolve("linked.qcow2"), "base.raw", "raw");
    BackingFileRefusedException e = refusedByPolicy(img, dir.resolve("base.raw").toString());
    assertTrue(e.getMessage().contains("(/etc/shadow)"), e.getMessage());
  }

  @Test
  void aBackingFileOutsideTheTreeIsFollowedWhenTheCallerAllowsIt() throws Exception {
    Path base = dir.resolve("templates/base.qcow2");
    Files.createDirectories(base.getParent());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "4M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 5 0 1M", base.toString());
    Path top = dir.resolve("vm1/top.qcow2");
    Files.createDirectories(top.getParent());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "../templates/base.qcow2", "-F", "qcow2", top.toString());
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 6 512k 1M", top.toString());
    refusedByPolicy(top, dir.resolve("vm1/../templates/base.qcow2").toString());
    List<QemuJson.Run> qemu = QemuJson.mapRuns(JSON.readTree(Qemu.run("qemu-img", "map", "--output=json", top.toString())));
    for (Path allowed : List.of(base, base.getParent())) { // the file, or its folder
      try (Qcow2Image q = Qcow2Image.open(top, BackingPolicy.allowing(List.of(allowed)))) {
        assertEquals(2, q.layers().size());
        assertEquals(qemu, QemuJson.mapRuns(q));
      }
    }
    // a file beside it is not allowed by allowing the file
    assertThrows(BackingFileRefusedException.class,
        () -> Qcow2Image.open(top, BackingPolicy.allowing(List.of(dir.resolve("templates/other.qcow2")))).close());
  }

  @Test
  void procKmsgIsRefusedWithoutBeingRead() throws Exception {
    for (String format : new String[] {"raw", null}) {
      Path img = overlay(dir.resolve("kmsg-" + format + ".qcow2"), "/proc/kmsg", format);
      refusedByPolicy(img, "/proc/kmsg");
      // allowed by name, it is still no disk image: refused before it is opened (a read blocks)
      UnsupportedImageException e = assertThrows(UnsupportedImageException.class,
          () -> Qcow2Image.open(img, BackingPolicy.allowing(List.of(Path.of("/proc/kmsg")))).close());
      assertEquals(UnsupportedImageException.class, e.getClass());
      assertTrue(e.getMessage().contains("backing file /proc/kmsg is on the kernel's proc file system"), e.getMessage());
    }
  }

  @Test
  void imagesThatAreNoFilesAreRefusedBeforeTheyAreOpened() throws Exception {
    Path fifo = dir.resolve("image.fifo");
    Qemu.run("mkfifo", fifo.toString());
    UnsupportedImageException top = assertThrows(UnsupportedImageException.class, () -> Qcow2Image.open(fifo).close());
    assertTrue(top.getMessage().contains(fifo + ": is a FIFO, not a regular file or a block device"), top.getMessage());
    assertThrows(UnsupportedImageException.class, () -> RawImage.open(fifo).close());
    UnsupportedImageException zero = assertThrows(UnsupportedImageException.class, () -> RawImage.open(Path.of("/dev/zero")).close());
    assertTrue(zero.getMessage().contains("is a character device, not a regular file or a block device"), zero.getMessage());
    UnsupportedImageException kmsg = assertThrows(UnsupportedImageException.class, () -> Qcow2Image.open(Path.of("/proc/kmsg")).close());
    assertTrue(kmsg.getMessage().contains("proc file system"), kmsg.getMessage());
  }
}
