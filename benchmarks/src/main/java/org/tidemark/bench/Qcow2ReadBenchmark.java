package org.tidemark.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.tidemark.disk.Extent;
import org.tidemark.qcow2.Qcow2Bitmap;
import org.tidemark.qcow2.Qcow2Image;

/**
 * Guest reads through the native qcow2 reader (64 MiB written by qemu-io, standard or extended L2)
 * against FileChannel reads of as many bytes of the same file, and the dirty-extent scan of a
 * bitmap against reading the same bitmap cluster and counting its bits with {@code Long.bitCount}.
 * The image is page-cached after the first iteration: this measures the reader's own cost. Needs
 * qemu-img and qemu-io (qemu-utils). Score: reads of the whole 64 MiB per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Qcow2ReadBenchmark {
  static final int SIZE = 64 << 20;

  @Param({"standard", "extended"})
  String l2;

  Path dir;
  Path image;
  Qcow2Image qcow2;
  FileChannel file;
  Qcow2Bitmap bitmap;
  ByteBuffer buffer = ByteBuffer.allocate(1 << 20);

  static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + ": " + out);
    }
  }

  @Setup(Level.Trial)
  public void setup() throws Exception {
    dir = Files.createTempDirectory("tidemark-bench");
    image = dir.resolve("bench.qcow2");
    run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=" + (l2.equals("extended") ? "on" : "off"),
        image.toString(), "64M");
    run("qemu-img", "bitmap", "--add", image.toString(), "cp1");
    // random data over the whole disk, written in 1 MiB steps with varying patterns
    Path pattern = dir.resolve("pattern");
    byte[] random = new byte[1 << 20];
    new java.util.Random(42).nextBytes(random);
    Files.write(pattern, random);
    List<String> cmd = new java.util.ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int mib = 0; mib < 64; mib++) {
      cmd.add("-c");
      cmd.add("write -q -s " + pattern + " " + mib + "M 1M");
    }
    cmd.add(image.toString());
    run(cmd.toArray(String[]::new));
    qcow2 = Qcow2Image.open(image);
    bitmap = qcow2.bitmapNamed("cp1").orElseThrow();
    file = FileChannel.open(image, StandardOpenOption.READ);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    qcow2.close();
    file.close();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  public int guestReadsThroughTheReader() throws IOException {
    int sum = 0;
    for (long off = 0; off < SIZE; off += buffer.capacity()) {
      buffer.clear();
      qcow2.readFully(off, buffer);
      sum += buffer.get(0);
    }
    return sum;
  }

  @Benchmark
  public int fileChannelReadsOfTheSameBytes() throws IOException {
    int sum = 0;
    long fileSize = file.size();
    for (long off = 0; off < SIZE; off += buffer.capacity()) {
      buffer.clear();
      long pos = off % Math.max(1, fileSize - buffer.capacity());
      while (buffer.hasRemaining()) {
        int n = file.read(buffer, pos);
        if (n < 0) {
          break;
        }
        pos += n;
      }
      sum += buffer.get(0);
    }
    return sum;
  }

  @Benchmark
  public List<Extent> bitmapDirtyExtents() throws IOException {
    return qcow2.dirtyExtents(bitmap);
  }

  @Benchmark
  public long bitmapBitCountSweep() throws IOException {
    // read the same table and data cluster the scan reads, then count the bits word by word
    ByteBuffer table = ByteBuffer.allocate(bitmap.tableSize() * 8);
    file.read(table, bitmap.tableOffset());
    long bits = 0;
    ByteBuffer data = ByteBuffer.allocate(qcow2.clusterSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < bitmap.tableSize(); i++) {
      long host = table.getLong(i * 8) & 0x00ff_ffff_ffff_fe00L;
      if (host != 0) {
        data.clear();
        file.read(data, host);
        for (int w = 0; w < data.capacity(); w += 8) {
          bits += Long.bitCount(data.getLong(w));
        }
      }
    }
    return bits;
  }
}
