package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Prepares faster starts of the {@code tidemark} command; run by the launcher script once per build
 * of the jar, not by users. Not an API.
 *
 * <p>{@code Warmup SAMPLE_DIR OUT_DIR} does two things in one process:
 *
 * <ol>
 *   <li>copies zstd-jni's native library for this platform out of the jar into {@code
 *       OUT_DIR/libzstd-jni.so}: the launcher passes it as {@code -DZstdNativePath}, so later runs
 *       load it directly instead of extracting it to a temporary file every time (about 50 ms);
 *   <li>runs the main job on the sample in-process and quietly (full and incremental backup, list,
 *       verify, restore to raw and to qcow2, then the repository's upkeep: consolidation of the
 *       incremental and a prune, in {@code OUT_DIR/work}), so that the class data sharing
 *       archive the launcher asks this JVM to write at exit holds the classes of every command, not
 *       only those of a backup.
 * </ol>
 *
 * <p>Exit code 0 when both were done, 1 otherwise (the launcher then runs without them).
 */
public final class Warmup {
  private Warmup() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: Warmup SAMPLE_DIR OUT_DIR");
      System.exit(2);
    }
    Path sample = Path.of(args[0]);
    Path out = Path.of(args[1]);
    boolean ok = extractZstd(out.resolve("libzstd-jni.so"));
    Path work = out.resolve("work");
    try {
      ok &= train(sample, work);
    } finally {
      deleteTree(work);
    }
    System.exit(ok ? 0 : 1);
  }

  /** Copies the jar's zstd-jni library for this OS and architecture to {@code target}. */
  static boolean extractZstd(Path target) throws IOException {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch").replace("x86_64", "amd64");
    if (!os.contains("linux")) {
      return false;
    }
    Path jar;
    try {
      jar = Path.of(Warmup.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return false;
    }
    String prefix = "linux/" + arch + "/libzstd-jni-";
    try (JarFile j = new JarFile(jar.toFile())) {
      List<JarEntry> libs = j.stream().filter(e -> e.getName().startsWith(prefix) && e.getName().endsWith(".so")).toList();
      if (libs.size() != 1) {
        return false;
      }
      Path temp = Files.createTempFile(target.getParent(), ".libzstd-jni", ".tmp");
      try (InputStream in = j.getInputStream(libs.get(0))) {
        Files.copy(in, temp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(temp);
      }
      return true;
    }
  }

  /** The main job on the sample, in this process, printing nothing. */
  private static boolean train(Path sample, Path work) {
    Path repo = work.resolve("repo");
    String cp = sample.resolve("checkpoints").toString();
    String disk = "vda=" + sample.resolve("vda.qcow2");
    List<String[]> jobs = List.of(
        new String[] {"backup", "-q", "--repo", repo.toString(), "--checkpoint", cp + "/cp1.xml", "--disk", disk},
        new String[] {"backup", "-q", "--repo", repo.toString(), "--checkpoint", cp + "/cp2.xml",
            "--checkpoint-dir", cp, "--disk", disk},
        new String[] {"list", "-q", "--repo", repo.toString()},
        new String[] {"verify", "-q", "--repo", repo.toString()},
        new String[] {"restore", "-q", "--repo", repo.toString(), "--domain", "sample", "--to", work.resolve("raw").toString()},
        new String[] {"restore", "-q", "--repo", repo.toString(), "--domain", "sample", "--to",
            work.resolve("qcow2").toString(), "--format", "qcow2"},
        new String[] {"consolidate", "-q", "--repo", repo.toString(), "--domain", "sample"},
        new String[] {"prune", "-q", "--repo", repo.toString(), "--domain", "sample", "--keep-last", "1"});
    PrintWriter sink = new PrintWriter(Writer.nullWriter());
    for (String[] job : jobs) {
      if (Main.run(job, sink, sink) != ExitCodes.OK) {
        return false;
      }
    }
    return true;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
