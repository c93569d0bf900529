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
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Guest reads through the native qcow2 reader against FileChannel reads of the same host bytes, on
 * 64 MiB images: standard L2 and extended L2 (random data written by qemu-io) and compressed
 * (compressible text-like data from a fixed seed, {@code qemu-img convert -c}, deflate). The
 * FileChannel baseline reads the host ranges the allocation map names, or for the compressed image
 * (whose map gives no offsets) the whole file. The dirty-extent scan of a bitmap is also measured
 * against reading the same bitmap clusters and counting their bits with {@code Long.bitCount}
 * (DirtyExtentBenchmark measures the scan alone on dense, sparse and random bitmaps).
 * The image is page-cached after the first iteration: this measures the reader's own cost. Needs
 * qemu-img and qemu-io (qemu-utils). Score: whole passes per second; the secondary score "bytes"
 * counts guest bytes for the reader and host bytes for FileChannel, per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class Qcow2ReadBenchmark {
  static final int SIZE = 64 << 20;

  @Param({"standard", "extended", "compressed"})
  String layout;

  Path dir;
  Path image;
  Qcow2Image qcow2;
  FileChannel file;
  Qcow2Bitmap bitmap;
  ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
  /** The host ranges holding the guest data, {offset, length} pairs. */
  long[] hostRanges;

  /** Bytes read, reported per second. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    public long bytes;

    @Setup(Level.Iteration)
    public void reset() {
      bytes = 0;
    }
  }

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
    if (layout.equals("compressed")) {
      // words from a small vocabulary: deflate gets about 3:1, as on text and binaries
      Path raw = dir.resolve("text.raw");
      String[] vocabulary = "alpha beta gamma delta qcow2 cluster bitmap backup restore tidemark refcount header \n".split(" ");
      java.util.SplittableRandom r = new java.util.SplittableRandom(42);
      StringBuilder sb = new StringBuilder(SIZE + 64);
      while (sb.length() < SIZE) {
        sb.append(vocabulary[r.nextInt(vocabulary.length)]).append(r.nextInt(10) == 0 ? r.nextInt(100000) : "").append(' ');
      }
      Files.write(raw, sb.substring(0, SIZE).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      run("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());
      Files.delete(raw);
      run("qemu-img", "bitmap", "--add", image.toString(), "cp1");
    } else {
      run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=" + (layout.equals("extended") ? "on" : "off"),
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
    }
    qcow2 = Qcow2Image.open(image);
    bitmap = qcow2.bitmapNamed("cp1").orElseThrow();
    file = FileChannel.open(image, StandardOpenOption.READ);
    List<long[]> ranges = new java.util.ArrayList<>();
    for (Qcow2Image.MapEntry e : qcow2.mapEntries()) {
      if (e.data() && e.offset().isPresent()) {
        ranges.add(new long[] {e.offset().getAsLong(), e.length()});
      } else if (e.data()) { // compressed: no offsets, read the whole file
        ranges = List.of(new long[] {0, file.size()});
        break;
      }
    }
    hostRanges = ranges.stream().flatMapToLong(java.util.Arrays::stream).toArray();
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
  public int guestReadsThroughTheReader(Bytes counter) throws IOException {
    int sum = 0;
    for (long off = 0; off < SIZE; off += buffer.capacity()) {
      buffer.clear();
      qcow2.readFully(off, buffer);
      sum += buffer.get(0);
    }
    counter.bytes += SIZE;
    return sum;
  }

  @Benchmark
  public int fileChannelReadsOfTheSameHostBytes(Bytes counter) throws IOException {
    int sum = 0;
    for (int i = 0; i < hostRanges.length; i += 2) {
      long pos = hostRanges[i];
      long end = pos + hostRanges[i + 1];
      while (pos < end) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), end - pos));
        int n = file.read(buffer, pos);
        if (n < 0) {
          break;
        }
        pos += n;
        sum += buffer.get(0);
      }
      counter.bytes += pos - hostRanges[i];
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
