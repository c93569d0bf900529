package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.DiskSource;
import org.tidemark.image.Images;
import org.tidemark.disk.UnsupportedImageException;
import org.tidemark.internal.FileKinds;

/**
 * A disk given as a FIFO, a socket, a character device or a folder is refused, typed and naming
 * the path, before it is opened (a FIFO's open blocks until a writer comes), in every format a
 * domain may declare and without one; a regular file, a link to one and a block device pass.
 */
class DiskFileKindTest {
  @TempDir Path dir;
  private Path fifo;

  /** Releases an open a FIFO might hold (read-write opens of a FIFO never block, and wake a blocked reader). */
  @AfterEach
  void releaseFifo() throws IOException {
    if (fifo != null) {
      FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
    }
  }

  private static void mkfifo(Path p) throws Exception {
    Process proc = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertEquals(0, proc.waitFor(), "mkfifo " + p);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a blocked open ignores interrupts
  void aFifoSocketCharacterDeviceOrFolderIsRefusedUnopened() throws Exception {
    fifo = dir.resolve("disk.fifo");
    mkfifo(fifo);
    Path socket = dir.resolve("disk.sock");
    try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      s.bind(UnixDomainSocketAddress.of(socket));
      Path folder = Files.createDirectory(dir.resolve("disk.d"));
      Path link = Files.createSymbolicLink(dir.resolve("link-to-fifo"), fifo);
      List<Object[]> cases = List.of(new Object[] {fifo, "a FIFO"}, new Object[] {link, "a FIFO"},
          new Object[] {socket, "a socket"}, new Object[] {Path.of("/dev/zero"), "a character device"},
          new Object[] {folder, "a directory"});
      for (Object[] c : cases) {
        Path p = (Path) c[0];
        for (Optional<String> format : List.of(Optional.<String>empty(), Optional.of("raw"), Optional.of("qcow2"))) {
          UnsupportedImageException e = assertThrows(UnsupportedImageException.class, () -> Images.open(p, format),
              p + " as " + format);
          String shown = Files.isSymbolicLink(p) ? "(" + p.toRealPath() + ") " : "";
          assertEquals(p + ": " + shown + "is " + c[1] + ", not a regular file or a block device (a disk image is one of"
              + " these)", e.getMessage());
        }
        assertThrows(UnsupportedImageException.class, () -> Images.open(p), p.toString());
      }
    }
  }

  @Test
  void aRegularFileALinkToOneAndABlockDevicePass() throws Exception {
    Path raw = Files.write(dir.resolve("disk.raw"), new byte[4096]);
    Path link = Files.createSymbolicLink(dir.resolve("link.raw"), raw);
    for (Path p : List.of(raw, link)) {
      try (DiskSource d = Images.open(p, Optional.of("raw")); DiskSource s = Images.open(p)) {
        assertEquals(4096, d.virtualSize());
        assertEquals(4096, s.virtualSize());
      }
    }
    // the block devices of this machine, checked without opening them (they need not be readable)
    try (Stream<Path> dev = Files.list(Path.of("/dev"))) {
      for (Path p : dev.filter(p -> isBlockDevice(p)).toList()) {
        org.tidemark.disk.ImageFiles.requireDiskFile(p, p, "image");
        assertEquals("a block device", FileKinds.notRegular(p, false), p.toString());
      }
    }
    assertTrue(FileKinds.notRegular(raw, false) == null);
  }

  private static boolean isBlockDevice(Path p) {
    try {
      return ((Integer) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS) & 0170000) == 0060000;
    } catch (IOException e) {
      return false;
    }
  }
}
