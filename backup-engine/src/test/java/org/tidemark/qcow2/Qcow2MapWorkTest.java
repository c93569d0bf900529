package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The allocation map's work follows the extents, counted, and its answer equals {@code qemu-img map}:
 * in a backing chain each layer is asked only about the guest ranges the layers above it leave
 * unallocated (issue 20: the backing layer's whole map was rebuilt for every gap, 35 s for a 1 GiB
 * overlay with every other cluster written); an L2 table of zeros, such as one in a hole of a sparse
 * file, costs one read and one step, not a step per entry and an allocation of its own.
 */
class Qcow2MapWorkTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static List<QemuJson.Run> qemuMap(Path img) throws Exception {
    return QemuJson.mapRuns(JSON.readTree(Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString())));
  }

  /** Runs qemu-io's commands (one a line, on its standard input: thousands of them). */
  private static void qemuIo(Path img, StringBuilder commands) throws Exception {
    Path script = img.resolveSibling(img.getFileName() + ".io");
    Files.writeString(script, commands);
    Process p = new ProcessBuilder("qemu-io", "-f", "qcow2", img.toString()).redirectInput(script.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    assertEquals(0, p.waitFor(), "qemu-io " + img);
  }

  @Test
  void eachLayerOfAChainIsAskedOnlyAboutWhatTheLayersAboveLeaveUnallocated() throws Exception {
    long size = 32L << 20;
    int cluster = 65536;
    int clusters = (int) (size / cluster);
    Path base = dir.resolve("base.qcow2");
    Path mid = dir.resolve("mid.qcow2");
    Path top = dir.resolve("top.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), Long.toString(size));
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 1 0 " + size, base.toString());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", mid.toString());
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", top.toString());
    StringBuilder midWrites = new StringBuilder();
    StringBuilder topWrites = new StringBuilder();
    long leftToBase = 0;
    for (int c = 0; c < clusters; c++) {
      leftToBase += c % 2 != 0 && c % 3 != 0 ? cluster : 0;
      long at = (long) c * cluster;
      if (c % 3 == 0) {
        midWrites.append(c % 9 == 0 ? "write -q -z " : "write -q -P 2 ").append(at).append(" 64k\n");
      }
      if (c % 2 == 0) {
        topWrites.append(c % 8 == 0 ? "write -q -z " : "write -q -P 3 ").append(at).append(" 64k\n");
      }
    }
    qemuIo(mid, midWrites);
    qemuIo(top, topWrites);
    try (Qcow2Image q = Qcow2Image.open(top)) {
      assertEquals(qemuMap(top), QemuJson.mapRuns(q));
      List<Qcow2Image> layers = q.layers();
      assertEquals(3, layers.size());
      // each layer asked about each guest byte at most once: the top all, the middle what the top
      // leaves (half), the base what both leave (a third of that)
      assertEquals(size, layers.get(0).mapBytesAsked());
      assertEquals(size / 2, layers.get(1).mapBytesAsked());
      assertEquals(leftToBase, layers.get(2).mapBytesAsked());
      for (Qcow2Image layer : layers) {
        assertTrue(layer.mapSteps() <= clusters, layer.path() + ": " + layer.mapSteps() + " steps for " + clusters + " clusters");
      }
    }
  }

  @Test
  void aSparseFileOfL2TablesInHolesCostsAStepPerTableAndNoMemory() throws Exception {
    // 2 MiB clusters, 32 TiB virtual: 64 L1 entries, each pointing at an L2 table in a hole of the
    // file (a file of 136 MiB that allocates 7 MiB)
    Path img = dir.resolve("holes.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=2M", img.toString(), "32T");
    int tables = 64;
    long cluster = 2 << 20;
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer h = ByteBuffer.allocate(72);
      ch.read(h, 0);
      long l1 = h.getLong(40);
      long first = (ch.size() + cluster - 1) / cluster * cluster;
      ByteBuffer entries = ByteBuffer.allocate(8 * tables);
      for (int i = 0; i < tables; i++) {
        entries.putLong((1L << 63) | (first + i * cluster));
      }
      ch.write(entries.flip(), l1);
      try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
        f.setLength(first + tables * cluster);
      }
    }
    assertEquals(qemuMap(img), List.of(new QemuJson.Run(0, 1L << 45, 0, false, true, false, -1)));
    try (Qcow2Image warm = Qcow2Image.open(img)) {
      warm.mapEntries(); // classes and the shared table of zeros
    }
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    try (Qcow2Image q = Qcow2Image.open(img)) {
      long before = mx.getCurrentThreadAllocatedBytes();
      List<Qcow2Image.MapEntry> map = q.mapEntries();
      long allocated = mx.getCurrentThreadAllocatedBytes() - before;
      assertEquals(0, q.l2Loads(), "the file system says the tables lie in holes: none is read");
      assertEquals(0, q.mapSteps(), "no entry of a table of zeros is looked at one by one");
      assertEquals(qemuMap(img), QemuJson.mapRuns(q));
      assertEquals(1, map.size(), map.toString());
      assertTrue(allocated < (1 << 20), "mapping " + tables + " tables in holes allocated " + allocated + " bytes");
      ByteBuffer b = ByteBuffer.allocate(4096);
      q.readFully((1L << 45) - 4096, b);
      assertEquals(-1, b.flip().mismatch(ByteBuffer.allocate(4096)));
    }
  }
}
