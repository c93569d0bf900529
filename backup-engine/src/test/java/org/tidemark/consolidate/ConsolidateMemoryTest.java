package org.tidemark.consolidate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.EncodedChunk;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.ParentRef;
import org.tidemark.archive.Repository;
import org.tidemark.backup.Progress;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * Consolidation's memory does not grow with the chain: a chain of {@value #POINTS} archives of a
 * {@value #MIB} MiB disk (a full one, then incrementals of a few seeded ranges each, some of them
 * zeros) is consolidated at its newest point in a child JVM whose heap ({@value #HEAP}) and direct
 * memory ({@value #DIRECT}) are a fraction of the disk (an image held in memory, or every chunk of
 * the chain held at once, would not fit). The consolidated point then restores, byte for byte, to
 * what a model of the writes says each guest byte is.
 */
class ConsolidateMemoryTest {
  static final int POINTS = 400;
  static final int MIB = 256;
  static final String HEAP = "-Xmx40m";
  static final String DIRECT = "-XX:MaxDirectMemorySize=160m";
  static final int CHUNK = 256 << 10;

  @TempDir Path dir;

  /** The guest byte at {@code x} as version {@code v} wrote it. */
  static byte at(long x, int v) {
    return (byte) (x * 31 + v * 17 + (x >>> 12));
  }

  /** Run in the child JVM: writes the chain into {@code args[0]}, consolidates its newest point, restores and compares. */
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    Path folder = Files.createDirectories(root.resolve("repo/vm"));
    long size = (long) MIB << 20;
    TreeMap<Long, long[]> model = new TreeMap<>(); // start -> {end, version (-1: zeros)}
    model.put(0L, new long[] {size, -1});
    Random r = new Random(400);
    for (int v = 0; v < POINTS; v++) {
      List<ExtentRecord> extents = new ArrayList<>();
      if (v == 0) {
        for (long off = 0; off < size; off += 2 << 20) {
          extents.add(new ExtentRecord(off, 1 << 20, false));
          extents.add(new ExtentRecord(off + (1 << 20), 1 << 20, true));
        }
      } else {
        long pos = 0;
        for (int i = 0; i < 3; i++) {
          long off = pos + (r.nextInt((int) ((size - pos) / 3 >> 12)) << 12);
          long len = Math.min(size - off, (long) (1 + r.nextInt(256)) << 12);
          extents.add(new ExtentRecord(off, len, r.nextInt(4) == 0));
          pos = off + len;
        }
      }
      for (ExtentRecord e : extents) {
        put(model, e.offset(), e.end(), e.zero() ? -1 : v);
      }
      DiskDecision.Kind kind = v == 0 ? DiskManifest.FULL : DiskManifest.INCREMENTAL;
      Manifest m = Manifest.of("test", "vm", "cp" + v, 1000 + v, Optional.ofNullable(v == 0 ? null : new ParentRef("cp" + (v - 1),
          "cp" + (v - 1) + ".tar")), List.of(new DiskManifest("vda", kind, v == 0 ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, "",
          size, CHUNK, extents)));
      byte[] xml = ("<domaincheckpoint>\n  <name>cp" + v + "</name>\n</domaincheckpoint>\n").getBytes(StandardCharsets.UTF_8);
      byte[] raw = new byte[CHUNK];
      try (ArchiveWriter w = ArchiveWriter.create(folder.resolve("cp" + v + ".tar"), xml, m)) {
        for (ExtentRecord e : extents) {
          for (long off = e.offset(); !e.zero() && off < e.end(); off += CHUNK) {
            int n = (int) Math.min(CHUNK, e.end() - off);
            for (int i = 0; i < n; i++) {
              raw[i] = at(off + i, v);
            }
            w.writeChunk("vda", EncodedChunk.encode(off, raw, n, Codec.ZSTD));
          }
        }
        w.commit();
      }
    }
    System.out.println("phase: consolidate");
    Repository repo = Repository.at(root.resolve("repo"));
    ConsolidateResult result = new Consolidator(repo).run(ConsolidateRequest.of("vm", Optional.empty(), "test"),
        Progress.NONE);
    if (!result.consolidated() || result.chain().size() != POINTS || repo.chain("vm", Optional.empty()).size() != 1) {
      throw new AssertionError("consolidated " + result.consolidated() + " from " + result.chain().size() + " archives");
    }
    Runtime rt = Runtime.getRuntime();
    System.gc();
    System.out.println("consolidated " + POINTS + " archives; heap in use after: " + (rt.totalMemory() - rt.freeMemory()));
    System.out.println("phase: restore");
    Path out = root.resolve("out");
    new RestoreRunner(repo).run(RestoreRequest.builder("vm").build(), RestoreTarget.folder(out, false), Progress.NONE);
    ByteBuffer got = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(out.resolve("vda.raw"))) {
      if (ch.size() != size) {
        throw new AssertionError("restored " + ch.size() + " bytes, expected " + size);
      }
      for (Map.Entry<Long, long[]> e : model.entrySet()) {
        for (long off = e.getKey(); off < e.getValue()[0]; off += got.capacity()) {
          got.clear().limit((int) Math.min(got.capacity(), e.getValue()[0] - off));
          while (got.hasRemaining() && ch.read(got, off + got.position()) > 0) {
            // read on
          }
          got.flip();
          for (int i = 0; got.hasRemaining(); i++) {
            byte want = e.getValue()[1] < 0 ? 0 : at(off + i, (int) e.getValue()[1]);
            if (got.get() != want) {
              throw new AssertionError("guest byte " + (off + i) + " differs (version " + e.getValue()[1] + ")");
            }
          }
        }
      }
    }
    System.out.println("long chain: ok");
  }

  /** Records that {@code [from, to)} now holds version {@code v} (-1: zeros). */
  private static void put(TreeMap<Long, long[]> model, long from, long to, long v) {
    Map.Entry<Long, long[]> before = model.floorEntry(from);
    if (before != null && before.getKey() < from && before.getValue()[0] > from) {
      model.put(from, before.getValue().clone());
      before.getValue()[0] = from;
    }
    Map.Entry<Long, long[]> last = model.floorEntry(to - 1);
    if (last.getValue()[0] > to) {
      model.put(to, new long[] {last.getValue()[0], last.getValue()[1]});
      last.getValue()[0] = to;
    }
    model.subMap(from, to).clear();
    model.put(from, new long[] {to, v});
  }

  @Test
  void aChainOfFourHundredArchivesIsConsolidatedWithinASmallHeap() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP, DIRECT,
        "-XX:+ExitOnOutOfMemoryError", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
        System.getProperty("java.class.path"), ConsolidateMemoryTest.class.getName(), dir.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.println(out);
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("long chain: ok"), out);
  }
}
