package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveLimits;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.EncodedChunk;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Manifest;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * The memory bound of docs/reliability.md covers an archive's metadata: an archive with as many
 * extents as a manifest may list ({@link ArchiveLimits#MAX_EXTENTS}, data and zeros alternating)
 * and 327,680 chunks of 512 bytes is written, opened, verified and restored, byte for byte, in a
 * child JVM whose heap is the documented figure for it. Before format version 2 an archive of
 * 300,000 chunks took about 1 GB to verify or restore (a JSON tree per chunk).
 */
class ManyChunksMemoryTest {
  static final int EXTENTS = ArchiveLimits.MAX_EXTENTS / 2; // data extents, each followed by a zero one
  static final int CHUNK = 512;
  static final int CHUNKS_PER_EXTENT = 5;
  static final long STRIDE = (CHUNKS_PER_EXTENT + 1) * CHUNK; // data, then 512 zero bytes
  /** The heap the child runs in: the documented bound for this archive (docs/reliability.md). */
  static final String HEAP = System.getProperty("tidemark.heap", "-Xmx192m");

  @TempDir Path dir;

  /** The guest byte at {@code x}: each 512-byte block starts with its offset; zero extents are zeros. */
  static byte at(long x) {
    if (x % STRIDE >= CHUNKS_PER_EXTENT * CHUNK) {
      return 0;
    }
    int in = (int) (x % CHUNK);
    return in < 8 ? (byte) ((x - in) >>> (8 * in)) : (byte) (in * 3);
  }

  /** Run in the child JVM: write the archive into {@code args[0]}'s repository, verify it, restore it, compare. */
  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    long size = EXTENTS * STRIDE;
    List<ExtentRecord> extents = new ArrayList<>();
    for (long off = 0; off < size; off += STRIDE) {
      extents.add(new ExtentRecord(off, CHUNKS_PER_EXTENT * CHUNK, false));
      extents.add(new ExtentRecord(off + CHUNKS_PER_EXTENT * CHUNK, CHUNK, true));
    }
    Manifest m = Manifest.of("test", "vm1", "cp1", 1, Optional.empty(), List.of(new DiskManifest("vda", DiskManifest.FULL,
        DiskDecision.NO_BASE_BACKUP, "first", size, CHUNK, extents)));
    extents = null;
    System.out.println("phase: write");
    Path archive = Files.createDirectories(root.resolve("repo/vm1")).resolve("cp1.tar");
    byte[] raw = new byte[CHUNK];
    try (ArchiveWriter w = ArchiveWriter.create(archive, ScatteredBackupTest.xml(ScatteredBackupTest.checkpoint("cp1", null)), m)) {
      for (long off = 0; off < size; off += STRIDE) {
        for (int c = 0; c < CHUNKS_PER_EXTENT; c++) {
          long o = off + (long) c * CHUNK;
          for (int i = 0; i < CHUNK; i++) {
            raw[i] = at(o + i);
          }
          w.writeChunk("vda", EncodedChunk.encode(o, raw, CHUNK, Codec.ZSTD));
        }
      }
      w.commit();
    }
    m = null;
    System.out.println("phase: open");
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      System.gc();
      Runtime rt = Runtime.getRuntime();
      System.out.println("open: " + r.chunks().size() + " chunks, " + r.manifest().disks().get(0).extents().size()
          + " extents, heap in use " + (rt.totalMemory() - rt.freeMemory()));
    }
    System.out.println("phase: verify");
    var findings = ArchiveVerifier.verify(archive);
    if (!findings.isEmpty()) {
      throw new AssertionError("verify: " + findings.subList(0, Math.min(3, findings.size())));
    }
    System.out.println("phase: restore");
    Path out = root.resolve("out");
    new RestoreRunner(org.tidemark.archive.Repository.at(root.resolve("repo"))).run(
        RestoreRequest.builder("vm1").checkpoint("cp1").build(), RestoreTarget.folder(out, false), Progress.NONE);
    Path image = out.resolve("vda.raw");
    if (Files.size(image) != size) {
      throw new AssertionError("restored " + Files.size(image) + " bytes, expected " + size);
    }
    byte[] want = new byte[1 << 20];
    ByteBuffer got = ByteBuffer.allocate(want.length);
    try (FileChannel ch = FileChannel.open(image)) {
      for (long off = 0; off < size; off += want.length) {
        int n = (int) Math.min(want.length, size - off);
        for (int i = 0; i < n; i++) {
          want[i] = at(off + i);
        }
        got.clear().limit(n);
        while (got.hasRemaining() && ch.read(got, off + got.position()) > 0) {
          // read on
        }
        int bad = Arrays.mismatch(want, 0, n, got.array(), 0, n);
        if (bad >= 0) {
          throw new AssertionError("restored byte " + (off + bad) + " differs");
        }
      }
    }
    System.out.println("many chunks: ok");
  }

  @Test
  void anArchiveOfAThirdOfAMillionChunksIsWrittenVerifiedAndRestoredWithinTheDocumentedHeap() throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), HEAP,
        "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), ManyChunksMemoryTest.class.getName(),
        dir.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    System.out.println(out);
    assertTrue(p.waitFor(10, TimeUnit.MINUTES), out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("many chunks: ok"), out);
  }
}
