package org.tidemark.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.Extent;
import org.tidemark.qcow2.Qemu;

/**
 * {@link NbdExport} against QEMU's own NBD server ({@code qemu-nbd}) serving a qcow2 image with a
 * bitmap: size as {@code qemu-img info} says, allocation and dirty extents as {@code nbdinfo --map}
 * reads them, bytes as {@code qemu-img convert -O raw} writes them.
 */
@Timeout(120)
class NbdExportTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  static Path image;
  static Path socket;
  static NbdEndpoint endpoint;
  static Process server;

  @BeforeAll
  static void serve() throws Exception {
    image = dir.resolve("vda.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=65536", image.toString(), "96M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 0 3M", "-c", "write -P 0x22 10M 64k",
        "-c", "write -z 20M 1M", "-c", "write -P 0x33 40M 5M", image.toString());
    Qemu.run("qemu-img", "bitmap", "--add", image.toString(), "cp1");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -P 0x44 1M 128k", "-c", "write -P 0x55 50M 1M",
        "-c", "write -P 0x66 95M 512", "-c", "discard 41M 1M", image.toString());
    socket = dir.resolve("nbd.sock");
    server = new ProcessBuilder("qemu-nbd", "-r", "-t", "-e", "16", "-f", "qcow2", "-B", "cp1", "-x", "vda",
        "--socket=" + socket, image.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("nbd.log").toFile())
        .start();
    for (int i = 0; i < 200 && !Files.exists(socket); i++) {
      assertTrue(server.isAlive(), "qemu-nbd exited early");
      Thread.sleep(50);
    }
    endpoint = NbdEndpoint.unix(socket, "vda");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.destroy();
      server.waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** nbdinfo's map of a context on the running server: (offset, length, type) triples. */
  private static List<long[]> nbdinfoMap(String context) throws Exception {
    JsonNode map = JSON.readTree(Qemu.run("nbdinfo", "--json", "--map=" + context, endpoint.uri()));
    List<long[]> out = new ArrayList<>();
    for (JsonNode e : map) {
      out.add(new long[] {e.get("offset").asLong(), e.get("length").asLong(), e.get("type").asLong()});
    }
    return out;
  }

  /** Merges adjacent extents of the same kind. */
  private static List<Extent> merged(List<Extent> in) {
    List<Extent> out = new ArrayList<>();
    for (Extent e : in) {
      Extent last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && last.zero() == e.zero() && last.end() == e.offset()) {
        out.set(out.size() - 1, new Extent(last.offset(), last.length() + e.length(), e.zero()));
      } else {
        out.add(e);
      }
    }
    return out;
  }

  @Test
  void sizeAllocationAndDirtyExtentsAreWhatQemuExports() throws Exception {
    try (NbdExport nbd = NbdExport.open(endpoint, List.of("cp1"), 1)) {
      JsonNode info = JSON.readTree(Qemu.run("qemu-img", "info", "-U", "--output=json", image.toString()));
      assertEquals(info.get("virtual-size").asLong(), nbd.virtualSize());
      assertEquals("nbd+unix:///vda?socket=" + socket, nbd.description());

      List<Extent> expected = new ArrayList<>();
      for (long[] e : nbdinfoMap(NbdExport.BASE_ALLOCATION)) {
        expected.add(new Extent(e[0], e[1], (e[2] & 2) != 0));
      }
      List<Extent> allocation = nbd.allocation();
      assertEquals(merged(expected), allocation);
      assertTrue(allocation.size() >= 7, "the image has several data and zero runs: " + allocation);

      List<Extent> dirty = new ArrayList<>();
      for (long[] e : nbdinfoMap(NbdExport.DIRTY_BITMAP + "cp1")) {
        if ((e[2] & 1) != 0) {
          dirty.add(new Extent(e[0], e[1], false));
        }
      }
      assertEquals(merged(dirty), nbd.dirtyExtents(List.of("cp1")));
      assertEquals(4, dirty.size(), "the four writes after cp1: " + dirty);
    }
  }

  @Test
  void bytesReadOverSeveralConnectionsAreQemuImgConvertsBytes() throws Exception {
    Path raw = dir.resolve("vda.raw");
    Qemu.run("qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
    byte[] expected = Files.readAllBytes(raw);
    byte[] actual = new byte[expected.length];
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (NbdExport nbd = NbdExport.open(endpoint, List.of(), 4)) {
      assertEquals(4, nbd.connections(), "a read-only export allows parallel connections");
      List<Future<?>> reads = new ArrayList<>();
      int piece = 3 << 20; // not a power of two: pieces straddle clusters
      for (long off = 0; off < expected.length; off += piece) {
        long at = off;
        int len = (int) Math.min(piece, expected.length - off);
        boolean direct = (off / piece) % 2 == 0;
        reads.add(pool.submit(() -> {
          ByteBuffer b = direct ? ByteBuffer.allocateDirect(len + 7).position(7) : ByteBuffer.allocate(len);
          nbd.readFully(at, b);
          b.flip().position(direct ? 7 : 0);
          b.get(actual, (int) at, len);
          return null;
        }));
      }
      for (Future<?> f : reads) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertArrayEquals(expected, actual);
  }

  /**
   * libnbd no longer zeroes each read buffer first (a memset of every byte a live backup copies):
   * a buffer that holds an earlier chunk's bytes, reused as the engine reuses its buffers, still
   * ends up holding exactly the export's bytes, zero and hole ranges included.
   */
  @Test
  void reusedBuffersHoldTheExportsBytesWithoutLibnbdZeroingThemFirst() throws Exception {
    Path raw = dir.resolve("vda-reuse.raw");
    Qemu.run("qemu-img", "convert", "-U", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
    byte[] expected = Files.readAllBytes(raw);
    try (NbdExport nbd = NbdExport.open(endpoint, List.of(), 2)) {
      assertEquals(List.of(false, false), nbd.zeroesReadBuffers(), "libnbd's pread_initialize on each connection");
      int piece = 4 << 20;
      ByteBuffer buffer = ByteBuffer.allocateDirect(piece);
      byte[] got = new byte[piece];
      for (long off = 0; off < expected.length; off += piece) {
        int len = (int) Math.min(piece, expected.length - off);
        // what the buffer held before: not zeros, so a range libnbd left alone would show
        while (buffer.hasRemaining()) {
          buffer.put((byte) 0xa5);
        }
        nbd.readFully(off, buffer.clear().limit(len));
        buffer.flip().get(got, 0, len);
        assertArrayEquals(java.util.Arrays.copyOfRange(expected, (int) off, (int) off + len),
            java.util.Arrays.copyOf(got, len), "bytes at " + off);
        buffer.clear();
      }
    }
  }

  @Test
  void aMissingBitmapAReadPastTheEndAndNoServerAreTypedErrors() throws Exception {
    NbdException noContext = assertThrows(NbdException.class, () -> NbdExport.open(endpoint, List.of("nope"), 1));
    assertTrue(noContext.getMessage().contains("qemu:dirty-bitmap:nope"), noContext.getMessage());
    assertTrue(noContext.getMessage().startsWith(endpoint.uri()), noContext.getMessage());

    try (NbdExport nbd = NbdExport.open(endpoint, List.of("cp1"), 1)) {
      assertThrows(java.io.IOException.class, () -> nbd.readFully(nbd.virtualSize() - 10, ByteBuffer.allocate(20)));
      NbdException notAsked = assertThrows(NbdException.class, () -> nbd.dirtyExtents(List.of("cp2")));
      assertTrue(notAsked.getMessage().contains("'cp2'"), notAsked.getMessage());
    }

    NbdEndpoint nowhere = NbdEndpoint.unix(dir.resolve("no-such.sock"), "vda");
    NbdException refused = assertThrows(NbdException.class, () -> NbdExport.open(nowhere, List.of(), 1));
    assertTrue(refused.getMessage().startsWith(nowhere.uri() + ": cannot connect: "), refused.getMessage());
    assertTrue(refused.errno() != 0, "libnbd's errno: " + refused.errno());
  }
}
