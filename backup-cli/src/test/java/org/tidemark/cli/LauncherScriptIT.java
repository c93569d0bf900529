package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository's {@code tidemark} launcher script and its start-up cache (class data sharing
 * archive, or AOT cache on Java 25 and later): made once by a training run, and never a reason for
 * a run to fail, whether the cache is absent, truncated, not an archive at all, or could not be made.
 * Each test runs the script from a copy of the checkout's layout (script, jar, sample) in a
 * temporary folder, with the Java running the tests.
 */
class LauncherScriptIT {
  @TempDir Path dir;
  Path target;

  record Run(int code, String out, String err) {}

  @BeforeEach
  void layout() throws IOException {
    Path jar = Path.of("target", "tidemark.jar");
    assertTrue(Files.exists(jar), "the shaded jar is built in the package phase: " + jar.toAbsolutePath());
    target = Files.createDirectories(dir.resolve("backup-cli/target"));
    Files.copy(jar, target.resolve("tidemark.jar"));
    Files.copy(Path.of("..", "tidemark"), dir.resolve("tidemark"));
    Files.copy(Path.of("..", "pom.xml"), dir.resolve("pom.xml")); // how the launcher tells a checkout
    Files.createSymbolicLink(dir.resolve("sample"), Path.of("..", "sample").toAbsolutePath().normalize());
  }

  Run launch(Map<String, String> env, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("bash", dir.resolve("tidemark").toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("TIDEMARK_NO_CDS");
    pb.environment().remove("TIDEMARK_JAVA_OPTS");
    pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    pb.environment().putAll(env);
    pb.directory(dir.toFile());
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(180, TimeUnit.SECONDS));
    return new Run(p.exitValue(), out, err);
  }

  Run launch(String... args) throws Exception {
    return launch(Map.of(), args);
  }

  /** The start-up cache the training run made (one file, .jsa or .aot). */
  Path cache() throws IOException {
    try (Stream<Path> s = Files.list(target)) {
      List<Path> found = s.filter(p -> p.getFileName().toString().matches("tidemark-.*\\.(jsa|aot)")).toList();
      assertEquals(1, found.size(), "one start-up cache in " + target + ": " + found);
      return found.get(0);
    }
  }

  static void assertVersion(Run r) {
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("tidemark "), r.out());
    assertEquals("", r.err(), "nothing on stderr");
  }

  void assertNoCrashReport() throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList());
    }
  }

  @Test
  void theFirstRunMakesTheCacheAndLaterRunsUseIt() throws Exception {
    assertVersion(launch("--version"));
    Path cache = cache();
    assertTrue(Files.size(cache) > 1 << 20, "an archive of the classes: " + Files.size(cache) + " bytes");
    assertTrue(Files.exists(target.resolve("libzstd-jni.so")));
    FileTime made = Files.getLastModifiedTime(cache);
    assertVersion(launch("--version"));
    assertEquals(made, Files.getLastModifiedTime(cache), "made once, not again");
    try (Stream<Path> s = Files.list(target)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".training")), "no training folder left");
    }
  }

  /**
   * picocli is compiled for Java 5, and the JVM's start-up caches leave classes that old out: the
   * build gives them stack map frames (src/build/StackMapFrames.java), so that a run with the cache
   * takes picocli's classes from it (Java 17: "source: shared objects file"; Java 25 the same).
   */
  @Test
  void picocliComesFromTheCache() throws Exception {
    assertVersion(launch("--version"));
    cache();
    Run help = launch(Map.of("TIDEMARK_JAVA_OPTS", "-Xlog:class+load=info:stdout"), "backup", "--help");
    assertEquals(0, help.code(), help.err());
    List<String> picocli = help.out().lines().filter(l -> l.contains(" picocli.CommandLine ")
        || l.contains(" picocli.CommandLine$Model$CommandSpec ") || l.contains(" picocli.CommandLine$Interpreter "))
        .toList();
    assertEquals(3, picocli.size(), help.out());
    for (String line : picocli) {
      assertTrue(line.endsWith("source: shared objects file") || line.endsWith("source: shared objects file (top)"),
          line);
    }
  }

  /** Java 17 dies of SIGBUS on a truncated dynamic archive; the launcher must not hand it one. */
  @Test
  void aTruncatedCacheIsNotUsedAndTheRunWorks() throws Exception {
    assertVersion(launch("--version"));
    Path cache = cache();
    byte[] head = Arrays.copyOf(Files.readAllBytes(cache), 5000);
    Files.delete(cache); // the file is read-only, as the JVM writes it
    Files.write(cache, head);
    Run r = launch("--version");
    assertVersion(r);
    assertNoCrashReport();
    Run backup = launch("image", "info", dir.resolve("sample/vda.qcow2").toString());
    assertEquals(0, backup.code(), backup.err());
  }

  @Test
  void aCacheThatIsNotAnArchiveIsIgnoredSilently() throws Exception {
    assertVersion(launch("--version"));
    Path cache = cache();
    byte[] junk = new byte[(int) Files.size(cache)];
    new Random(21).nextBytes(junk);
    Files.delete(cache);
    Files.write(cache, junk);
    assertVersion(launch("--version"));
    assertNoCrashReport();
  }

  @Test
  void anAbsentCacheIsMadeAgain() throws Exception {
    assertVersion(launch("--version"));
    Path cache = cache();
    Files.delete(cache);
    assertVersion(launch("--version"));
    assertTrue(Files.exists(cache));
  }

  /** Training that fails (here: no sample to train on) leaves the run working and is not retried every run. */
  @Test
  void aFailedTrainingIsNotRetriedUntilTheJarChanges() throws Exception {
    Files.delete(dir.resolve("sample"));
    assertVersion(launch("--version"));
    Path failed;
    try (Stream<Path> s = Files.list(target)) {
      failed = s.filter(p -> p.getFileName().toString().endsWith(".failed")).findFirst().orElseThrow();
    }
    FileTime marked = FileTime.fromMillis(System.currentTimeMillis() - 60_000);
    Files.setLastModifiedTime(failed, marked);
    Files.setLastModifiedTime(target.resolve("tidemark.jar"), FileTime.fromMillis(System.currentTimeMillis() - 120_000));
    assertVersion(launch("--version"));
    assertEquals(marked, Files.getLastModifiedTime(failed), "no second training while the jar is unchanged");
    Files.createSymbolicLink(dir.resolve("sample"), Path.of("..", "sample").toAbsolutePath().normalize());
    Files.setLastModifiedTime(target.resolve("tidemark.jar"), FileTime.fromMillis(System.currentTimeMillis()));
    assertVersion(launch("--version"));
    cache();
    assertFalse(Files.exists(failed), "a new jar trains again, and succeeds");
  }

  @Test
  void noCdsMakesNoCache() throws Exception {
    assertVersion(launch(Map.of("TIDEMARK_NO_CDS", "1"), "--version"));
    try (Stream<Path> s = Files.list(target)) {
      assertEquals(List.of(target.resolve("tidemark.jar")), s.toList());
    }
  }
}
