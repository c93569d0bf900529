package org.tidemark.disk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.image.Images;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.Qemu;

/**
 * QEMU's image locks, with QEMU's own tools as the other party: an image that {@code qemu-nbd}
 * serves read-write is refused (as {@code qemu-img info} refuses it), one served read-only is read,
 * and while Tidemark reads an image QEMU cannot get a write lock on it.
 */
@Timeout(120)
class ImageLocksTest {
  @TempDir Path dir;

  private Path qcow2(String name) throws Exception {
    Path image = dir.resolve(name);
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), "64M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 1M 64k", image.toString());
    return image;
  }

  /** {@code qemu-nbd} serving {@code image}, started and waited for until it holds its locks. */
  private static Process serve(Path image, String format, boolean readOnly, Path socket) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("qemu-nbd", "-f", format, "--socket=" + socket));
    if (readOnly) {
      cmd.add("-r");
    }
    cmd.add(image.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    for (int i = 0; i < 200 && !Files.exists(socket); i++) {
      assertTrue(p.isAlive(), "qemu-nbd exited early");
      Thread.sleep(50);
    }
    assertTrue(Files.exists(socket), "qemu-nbd did not start");
    return p;
  }

  private static void stop(Process p) throws InterruptedException {
    p.destroy();
    p.waitFor(30, TimeUnit.SECONDS);
  }

  /** qemu-img info's verdict on the image: null when it opens it, else its error. */
  private static String qemuImgInfoError(Path image) throws Exception {
    Process p = new ProcessBuilder("qemu-img", "info", image.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    return p.exitValue() == 0 ? null : out;
  }

  @Test
  void anImageQemuNbdServesReadWriteIsRefusedAsQemuImgRefusesIt() throws Exception {
    Path image = qcow2("busy.qcow2");
    Process nbd = serve(image, "qcow2", false, dir.resolve("nbd.sock"));
    try {
      String qemu = qemuImgInfoError(image);
      assertTrue(qemu != null && qemu.contains("lock"), "ground truth: qemu-img info refuses it: " + qemu);
      ImageInUseException e = assertThrows(ImageInUseException.class, () -> Qcow2Image.open(image));
      assertEquals(image.toString(), e.getFile());
      assertTrue(e.getMessage().contains("in use by a running QEMU process; back it up live through libvirt"),
          e.getMessage());
      assertThrows(ImageInUseException.class, () -> Images.open(image));
    } finally {
      stop(nbd);
    }
    try (Qcow2Image q = Qcow2Image.open(image)) { // free again
      assertEquals(64 << 20, q.virtualSize());
    }
  }

  @Test
  void aRawImageServedReadWriteIsRefused() throws Exception {
    Path image = dir.resolve("busy.raw");
    Files.write(image, new byte[1 << 20]);
    Process nbd = serve(image, "raw", false, dir.resolve("raw.sock"));
    try {
      assertThrows(ImageInUseException.class, () -> RawImage.open(image));
    } finally {
      stop(nbd);
    }
    RawImage.open(image).close();
  }

  @Test
  void anImageServedReadOnlyIsRead() throws Exception {
    Path image = qcow2("shared.qcow2");
    Process nbd = serve(image, "qcow2", true, dir.resolve("ro.sock"));
    try {
      assertEquals(null, qemuImgInfoError(image), "ground truth: qemu-img info reads it");
      try (Qcow2Image q = Qcow2Image.open(image)) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4);
        q.readFully(1 << 20, b);
        assertEquals(0x5a5a5a5a, b.getInt(0));
      }
    } finally {
      stop(nbd);
    }
  }

  @Test
  void whileTidemarkReadsAnImageQemuCannotWriteIt() throws Exception {
    Path image = qcow2("held.qcow2");
    try (Qcow2Image q = Qcow2Image.open(image)) {
      Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", image.toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(60, TimeUnit.SECONDS);
      assertNotEquals(0, p.exitValue(), "qemu-io must not get its write lock: " + out);
      assertTrue(out.contains("lock"), out);
    }
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 64k", image.toString()); // released on close
  }

  @Test
  void procLocksLinesParse() {
    List<ImageLocks.HeldLock> locks = ImageLocks.parse(List.of(
        "1: OFDLCK ADVISORY  READ -1 fe:00:2147633 100 101",
        "2: POSIX  ADVISORY  WRITE 4242 08:1f:77 201 EOF",
        "3: -> POSIX  ADVISORY  WRITE 4243 08:1f:77 201 EOF",
        "garbage"));
    assertEquals(2, locks.size());
    assertEquals(new ImageLocks.FileId(0xfe, 0, 2147633), locks.get(0).file());
    assertTrue(locks.get(0).covers(101) && !locks.get(0).covers(102));
    assertEquals(4242, locks.get(1).pid());
    assertEquals(new ImageLocks.FileId(8, 31, 77), locks.get(1).file());
    assertTrue(locks.get(1).covers(Long.MAX_VALUE - 1));
  }

  @Test
  void aLockOnAnotherFileOrByteIsNoConflict() throws IOException {
    Path image = Files.write(dir.resolve("x.raw"), new byte[4096]);
    ImageLocks.FileId id = ImageLocks.FileId.of(image).orElseThrow();
    String file = String.format("%02x:%02x:%d", id.major(), id.minor(), id.inode());
    Path procLocks = dir.resolve("locks");
    Files.write(procLocks, List.of("1: OFDLCK ADVISORY  READ -1 " + file + " 100 100",
        "2: OFDLCK ADVISORY  READ -1 " + file + " 201 201",
        "3: OFDLCK ADVISORY  READ -1 fe:00:1 101 101"));
    ImageLocks.checkNotInUse(image, procLocks); // a reader like qemu-nbd -r, and a writer of another file
    Files.write(procLocks, List.of("1: OFDLCK ADVISORY  READ -1 " + file + " 100 103"));
    assertThrows(ImageInUseException.class, () -> ImageLocks.checkNotInUse(image, procLocks));
    // among many other locks, and with a one-digit major number printed as the kernel does (08)
    List<String> many = new java.util.ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      many.add((i + 1) + ": POSIX  ADVISORY  WRITE " + (1000 + i) + " 08:01:" + (900000 + i) + " 0 EOF");
    }
    many.add("5001: OFDLCK ADVISORY  READ -1 " + file + " 101 101");
    Files.write(procLocks, many);
    assertThrows(ImageInUseException.class, () -> ImageLocks.checkNotInUse(image, procLocks));
  }
}
