package org.tidemark.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.image.Images;

/**
 * What a backup asks of a source before its first read: open the image, take its allocation map,
 * close it, on 256 MiB images (page-cached): "allocated", a qcow2 fully written by qemu-io (64 KiB
 * clusters; QEMU's metadata-preallocation rule does not apply, so no hole is asked about);
 * "preallocated", a qcow2 made with {@code preallocation=metadata} and written in 4 KiB pieces
 * every 256 KiB (the rule applies: every data cluster's holes are asked about, as QEMU does); "raw",
 * a fully written raw file, and "raw-sparse", a raw file with 4 KiB of data every 256 KiB (the
 * file's runs are the map). Needs qemu-img and qemu-io. Score: maps per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(3)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class AllocationMapBenchmark {
  static final long SIZE = 256L << 20;

  @Param({"allocated", "preallocated", "raw", "raw-sparse"})
  String layout;

  Path dir;
  Path image;

  @Setup(Level.Trial)
  public void setup() throws Exception {
    dir = Files.createTempDirectory("tidemark-bench");
    boolean raw = layout.startsWith("raw");
    image = dir.resolve(raw ? "bench.raw" : "bench.qcow2");
    String format = raw ? "raw" : "qcow2";
    List<String> create = new java.util.ArrayList<>(List.of("qemu-img", "create", "-q", "-f", format));
    if (layout.equals("preallocated")) {
      create.addAll(List.of("-o", "preallocation=metadata"));
    }
    create.addAll(List.of(image.toString(), Long.toString(SIZE)));
    Qcow2ReadBenchmark.run(create.toArray(String[]::new));
    Path pattern = dir.resolve("pattern");
    byte[] random = new byte[4 << 20];
    new java.util.Random(42).nextBytes(random);
    Files.write(pattern, random);
    List<String> cmd = new java.util.ArrayList<>(List.of("qemu-io", "-f", format));
    boolean sparse = layout.equals("preallocated") || layout.equals("raw-sparse");
    for (long off = 0; off < SIZE; off += sparse ? 256 << 10 : 4 << 20) {
      cmd.add("-c");
      cmd.add("write -q -s " + pattern + " " + off + " " + (sparse ? 4096 : 4 << 20));
    }
    cmd.add(image.toString());
    Qcow2ReadBenchmark.run(cmd.toArray(String[]::new));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Benchmark
  public List<Extent> openAndMap() throws IOException {
    try (DiskSource d = Images.open(image)) {
      return d.allocation();
    }
  }
}
