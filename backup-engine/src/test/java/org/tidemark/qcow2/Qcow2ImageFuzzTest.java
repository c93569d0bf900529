package org.tidemark.qcow2;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ImageException;

/**
 * Fuzzes the qcow2 reader: open, the snapshot table, the allocation map, the bitmap list, every
 * bitmap's dirty extents (alone and merged down the chain; an in-use bitmap must be refused) and
 * guest reads at a few offsets, on mutated image bytes.
 * Only the reader's typed errors ({@link ImageException} and its subclasses: the qcow2 reader's
 * {@code Qcow2Exception}s and {@code UnsupportedImageException}) may escape; any other
 * throwable, an OOM or a hang (the timeout) is a finding.
 *
 * <p>Plain {@code mvn test} replays the committed inputs under {@code
 * Qcow2ImageFuzzTestInputs/openAndRead/} (seeds QEMU wrote, and regression inputs named for what
 * they prove); {@code JAZZER_FUZZ=1} fuzzes (see docs/reliability.md). The input is written to
 * {@code fuzz.qcow2} in a scratch folder that also holds {@code base.qcow2}, so a seed may name
 * that as its backing file, or name itself to make a loop.
 */
class Qcow2ImageFuzzTest {
  private static final Path DIR;
  private static final Path IMAGE;
  /** How much each guest read asks for at most. */
  private static final int READ = 64 << 10;

  static {
    try {
      DIR = Files.createTempDirectory("tidemark-qcow2-fuzz");
      DIR.toFile().deleteOnExit();
      IMAGE = DIR.resolve("fuzz.qcow2");
      try (InputStream base = Qcow2ImageFuzzTest.class.getResourceAsStream("fuzz-backing-base.qcow2")) {
        Files.copy(base, DIR.resolve("base.qcow2"), StandardCopyOption.REPLACE_EXISTING);
      }
      DIR.resolve("base.qcow2").toFile().deleteOnExit();
      IMAGE.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "10m")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void openAndRead(byte[] bytes) throws IOException {
    Files.write(IMAGE, bytes);
    try (Qcow2Image q = Qcow2Image.open(IMAGE)) {
      try {
        q.snapshots(); // image info's table, bounded as QEMU bounds it
      } catch (ImageException expected) {
        // a typed refusal of the table alone; the rest is still read
      }
      exercise(q);
    } catch (ImageException expected) {
      // a typed refusal: what a hostile image must get
    }
  }

  /** Everything the backup engine asks of an image. */
  static void exercise(Qcow2Image q) throws IOException {
    q.mapEntries();
    List<Extent> allocation = q.allocation();
    long size = q.virtualSize();
    long covered = allocation.stream().mapToLong(Extent::length).sum();
    if (covered != size) {
      throw new AssertionError("allocation covers " + covered + " bytes of a " + size + "-byte disk: " + allocation);
    }
    for (Qcow2Bitmap b : q.bitmaps()) {
      q.bitmap(b.name());
      if (b.inUse()) { // stale in the file: refused, never answered
        try {
          q.dirtyExtents(b);
          throw new AssertionError("bitmap '" + b.name() + "' is in use, yet its extents were given");
        } catch (BitmapInUseException expected) {
          continue;
        }
      }
      for (Extent e : q.dirtyExtents(b)) {
        if (e.offset() < 0 || e.end() > size || e.length() <= 0) {
          throw new AssertionError("bitmap '" + b.name() + "': extent " + e + " outside [0, " + size + ")");
        }
      }
    }
    q.dirtyExtents(q.bitmaps().stream().filter(b -> !b.inUse()).map(Qcow2Bitmap::name).toList());
    int n = (int) Math.min(size, READ);
    ByteBuffer buf = ByteBuffer.allocate(n);
    for (long at : new long[] {0, size / 2 / 512 * 512, size - n}) {
      buf.clear();
      q.readFully(Math.min(at, size - n), buf);
      if (buf.hasRemaining()) {
        throw new AssertionError("readFully left " + buf.remaining() + " bytes at " + at);
      }
    }
  }
}
