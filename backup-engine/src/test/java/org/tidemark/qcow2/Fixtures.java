package org.tidemark.qcow2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The qcow2 fixture corpus: images QEMU wrote, each with QEMU's own answers beside it, made by
 * {@code backup-engine/src/test/fixtures/make-fixtures.sh} into {@code backup-engine/target/fixtures}.
 *
 * <p>{@link #corpus()} builds it at most once per test JVM, and only when it is missing or was made
 * by another version of the script (the script's SHA-256 is stored in the corpus as
 * {@value #HASH_FILE}). The script writes into a fresh {@code fixtures.building-*} folder beside
 * the corpus, which is renamed to {@code fixtures} only after the script succeeded and the hash was
 * written: a killed build leaves a folder that is never taken for the corpus (and is removed by the
 * next build). Builds are serialized across JVMs (backup-engine's and backup-cli's test runs) by
 * a lock on {@code target/fixtures.lock}, and within a JVM by this class's monitor.
 *
 * <p>Missing QEMU tools fail the build with the script's message (CI installs qemu-utils and
 * libnbd-bin): the corpus is ground truth, never skipped.
 */
public final class Fixtures {
  /** The file in the corpus holding the SHA-256 of the script that made it. */
  public static final String HASH_FILE = ".script-sha256";
  private static final String SCRIPT = "backup-engine/src/test/fixtures/make-fixtures.sh";
  private static final long BUILD_TIMEOUT_MINUTES = 20;
  private static Path corpus;
  /** Why the build failed: a JVM tries once, every later call fails the same way at once. */
  private static RuntimeException failure;

  private Fixtures() {}

  /** The corpus folder, built first if missing or stale. */
  public static synchronized Path corpus() {
    if (failure != null) {
      throw failure;
    }
    if (corpus == null) {
      try {
        corpus = build();
      } catch (IOException e) {
        failure = new UncheckedIOException(e);
        throw failure;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        failure = new IllegalStateException("interrupted while making the qcow2 fixture corpus", e);
        throw failure;
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
    return corpus;
  }

  /** The project's root: the nearest folder at or above the working directory holding the script. */
  static Path projectRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve(SCRIPT))) {
        return p;
      }
    }
    throw new IllegalStateException(SCRIPT + " not found above " + Path.of("").toAbsolutePath());
  }

  private static Path build() throws IOException, InterruptedException {
    Path script = projectRoot().resolve(SCRIPT);
    Path target = script.getParent().getParent().getParent().getParent().resolve("target");
    Files.createDirectories(target);
    Path dir = target.resolve("fixtures");
    String hash = sha256(script);
    try (FileChannel lockFile = FileChannel.open(target.resolve("fixtures.lock"),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = lockFile.lock()) {
      if (hash.equals(storedHash(dir))) {
        return dir;
      }
      removeLeftovers(target);
      Path building = Files.createTempDirectory(target, "fixtures.building-");
      Path log = target.resolve("fixtures-build.log");
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder("bash", script.toString(), building.toString())
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      p.getOutputStream().close();
      if (!p.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        p.destroyForcibly().waitFor();
        throw new IOException(script + " did not finish in " + BUILD_TIMEOUT_MINUTES + " minutes: see " + log);
      }
      if (p.exitValue() != 0) {
        throw new IOException(script + " failed (exit " + p.exitValue() + "): " + tail(log) + " (all of it in " + log + ")");
      }
      Files.writeString(building.resolve(HASH_FILE), hash + "\n");
      if (Files.exists(dir)) {
        Path old = Files.createTempDirectory(target, "fixtures.old-");
        Files.move(dir, old.resolve("fixtures"), StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
      }
      Files.move(building, dir, StandardCopyOption.ATOMIC_MOVE);
      System.err.printf("qcow2 fixture corpus made in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, dir);
      return dir;
    }
  }

  private static String storedHash(Path dir) throws IOException {
    Path f = dir.resolve(HASH_FILE);
    return Files.isRegularFile(f) ? Files.readString(f).trim() : null;
  }

  /** Removes the folders of builds that were killed, and old corpora that were being deleted. */
  private static void removeLeftovers(Path target) throws IOException {
    List<Path> left = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(target, "fixtures.{building,old}-*")) {
      ds.forEach(left::add);
    }
    for (Path p : left) {
      deleteTree(p);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
  }

  static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every image of the corpus that QEMU read (it has {@code IMG.info.json} and {@code IMG.map.json}), as paths relative to the corpus. */
  public static List<String> images() throws IOException {
    Path root = corpus();
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".qcow2"))
          .filter(p -> Files.exists(Path.of(p + ".map.json")))
          .map(p -> root.relativize(p).toString())
          .sorted()
          .toList();
    }
  }

  /** The malformed images of {@code bad/} (each has {@code IMG.expect.txt}), relative to the corpus. */
  public static List<String> badImages() throws IOException {
    Path root = corpus();
    try (Stream<Path> s = Files.list(root.resolve("bad"))) {
      return s.filter(p -> p.getFileName().toString().endsWith(".qcow2"))
          .filter(p -> Files.exists(Path.of(p + ".expect.txt")))
          .map(p -> root.relativize(p).toString())
          .sorted()
          .toList();
    }
  }
}
