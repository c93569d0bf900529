package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bitmap QEMU has in use (the image open for writing in qemu-nbd) keeps its current content in
 * QEMU's memory: the copy in the file is stale, so asking for its dirty extents is refused with a
 * {@link BitmapInUseException}, never answered (issue 17: a 1 MiB guest write at 20M, already in the
 * file, was missing from the extents).
 */
class Qcow2BitmapInUseTest {
  @TempDir Path dir;

  @Test
  void dirtyExtentsOfABitmapQemuNbdHasOpenForWritingAreRefused() throws Exception {
    Path img = dir.resolve("live.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", img.toString(), "64M");
    Qemu.run("qemu-img", "bitmap", "--add", img.toString(), "cp1");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 1 0 1M", img.toString());
    Path socket = dir.resolve("nbd.sock");
    Process nbd = new ProcessBuilder("qemu-nbd", "-f", "qcow2", "-t", "--socket=" + socket, img.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-nbd.log").toFile()).start();
    try {
      for (int i = 0; i < 200 && !Files.exists(socket); i++) {
        assertTrue(nbd.isAlive(), "qemu-nbd exited: " + Files.readString(dir.resolve("qemu-nbd.log")));
        Thread.sleep(50);
      }
      assertTrue(Files.exists(socket), "qemu-nbd made no socket");
      Qemu.run("qemu-io", "-f", "raw", "-c", "write -q -P 7 20M 1M", "nbd+unix:///?socket=" + socket);
      // while qemu-nbd holds the image for writing, it is not opened at all (QEMU's image lock)
      assertThrows(org.tidemark.disk.ImageInUseException.class, () -> Qcow2Image.open(img).close());
      // killed, it leaves the bitmap flagged in use in the file, unsaved, and releases its locks
      Qemu.run("kill", "-9", Long.toString(nbd.pid()));
      assertTrue(nbd.waitFor(30, TimeUnit.SECONDS), "qemu-nbd did not stop");
      try (Qcow2Image q = Qcow2Image.open(img)) {
        // the write is in the file already ...
        ByteBuffer b = ByteBuffer.allocate(1 << 20);
        q.readFully(20 << 20, b);
        for (int i = 0; i < b.capacity(); i++) {
          assertEquals(7, b.get(i), "guest byte " + ((20 << 20) + i));
        }
        // ... but the bitmap QEMU held was never saved: flagged in use, its extents refused
        Qcow2Bitmap cp1 = q.bitmapNamed("cp1").orElseThrow();
        assertTrue(cp1.inUse(), "qemu-nbd marked the bitmap in use: " + cp1);
        assertTrue(q.bitmap("cp1").inUse());
        BitmapInUseException one = assertThrows(BitmapInUseException.class, () -> q.dirtyExtents(cp1));
        assertEquals("cp1", one.bitmap());
        assertTrue(one.getMessage().startsWith(img + ": bitmap 'cp1' is in use by a running QEMU"), one.getMessage());
        BitmapInUseException union = assertThrows(BitmapInUseException.class, () -> q.dirtyExtents(List.of("cp1")));
        assertEquals(img, union.file());
      }
    } finally {
      nbd.destroy();
      assertTrue(nbd.waitFor(30, TimeUnit.SECONDS), "qemu-nbd did not stop");
    }
    // a clean stop: qemu-nbd again, closed cleanly, stores the bitmap (a fresh one, the old being lost)
    Qemu.run("qemu-img", "bitmap", "--remove", img.toString(), "cp1");
    Qemu.run("qemu-img", "bitmap", "--add", img.toString(), "cp1");
    Path socket2 = dir.resolve("nbd2.sock"); // a fresh socket: the killed server's file stays behind
    nbd = new ProcessBuilder("qemu-nbd", "-f", "qcow2", "-t", "--socket=" + socket2, img.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("qemu-nbd2.log").toFile()).start();
    try {
      for (int i = 0; i < 200 && !Files.exists(socket2); i++) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(socket2), "qemu-nbd made no socket");
      Qemu.run("qemu-io", "-f", "raw", "-c", "write -q -P 9 20M 1M", "nbd+unix:///?socket=" + socket2);
    } finally {
      nbd.destroy();
      assertTrue(nbd.waitFor(30, TimeUnit.SECONDS), "qemu-nbd did not stop");
    }
    // closed cleanly, QEMU stores the bitmap: the write at 20M is in it, and the reader answers again
    try (Qcow2Image q = Qcow2Image.open(img)) {
      List<org.tidemark.disk.Extent> dirty = q.dirtyExtents(List.of("cp1"));
      assertEquals(Qemu.dirty(img, "cp1"), QemuJson.merged(dirty));
      assertTrue(dirty.stream().anyMatch(e -> e.offset() <= (20 << 20) && e.end() >= (21 << 20)), dirty.toString());
    }
  }
}
