package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged command as operators run it: {@code java -jar backup-cli/target/tidemark.jar} as a
 * process, for exit codes, stderr, and the grammar loading from inside the jar.
 */
class PackagedJarIT {
  @TempDir Path dir;

  record Run(int code, String out, String err) {}

  static Run tidemark(String... args) throws Exception {
    Path jar = Path.of("target", "tidemark.jar");
    assertTrue(Files.exists(jar), "the shaded jar is built in the package phase: " + jar.toAbsolutePath());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    return new Run(p.exitValue(), out, err);
  }

  @Test
  void versionAndHelp() throws Exception {
    Run v = tidemark("--version");
    assertEquals(0, v.code());
    assertTrue(v.out().startsWith("tidemark "), v.out());
    // the bare --version and -V skip picocli (Main.isVersionRequest); with another option picocli
    // answers: the same text, nothing on stderr
    Run picocli = tidemark("--debug", "--version");
    assertEquals(0, picocli.code());
    assertEquals(picocli.out(), v.out());
    assertEquals(v, tidemark("-V"));
    assertEquals("", v.err());
    Run h = tidemark("--help");
    assertEquals(0, h.code());
    assertTrue(h.out().contains("Exit codes:"), h.out());
  }

  /**
   * What the launcher runs once per build: the warm-up leaves zstd's native library (an ELF shared
   * object) and nothing else, and a run given that library writes zstd chunks that verify.
   */
  @Test
  void warmupExtractsZstdAndARunLoadsItFromThere() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path out = Files.createDirectories(dir.resolve("warmup"));
    Process w = new ProcessBuilder(java, "-cp", Path.of("target", "tidemark.jar").toString(), "org.tidemark.cli.Warmup",
        Path.of("..", "sample").toString(), out.toString()).redirectErrorStream(true).start();
    String log = new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(w.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, w.exitValue(), log);
    assertEquals(List.of("libzstd-jni.so"), names(out), "the training's work folder is removed");
    byte[] head = Arrays.copyOf(Files.readAllBytes(out.resolve("libzstd-jni.so")), 4);
    assertEquals("\u007fELF", new String(head, StandardCharsets.ISO_8859_1));
    Path repo = dir.resolve("repo");
    Process b = new ProcessBuilder(java, "-DZstdNativePath=" + out.resolve("libzstd-jni.so"), "-jar",
        Path.of("target", "tidemark.jar").toString(), "backup", "-q", "--repo", repo.toString(),
        "--checkpoint", "../sample/checkpoints/cp1.xml", "--disk", "vda=../sample/vda.qcow2", "--compress", "zstd")
        .redirectErrorStream(true).start();
    String blog = new String(b.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(b.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, b.exitValue(), blog);
    Run v = tidemark("verify", "--repo", repo.toString());
    assertEquals(0, v.code(), v.err());
  }

  @Test
  void validatesWithTheGrammarInsideTheJar() throws Exception {
    Run ok = tidemark("checkpoint", "validate", "../sample/checkpoints/cp1.xml", "../sample/checkpoints/cp2.xml");
    assertEquals(0, ok.code(), ok.err());
    Path bad = Files.writeString(dir.resolve("bad.xml"), "<domaincheckpoint>\n  <nom>x</nom>\n</domaincheckpoint>\n");
    Run r = tidemark("checkpoint", "format", bad.toString());
    assertEquals(3, r.code());
    assertTrue(r.err().startsWith(bad + ":2:"), r.err());
    assertFalse(r.err().strip().contains("\n"), "one line, no stack trace: " + r.err());
  }

  static void qemu(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
  }

  /** 256 MiB of random guest data in a 1 GiB qcow2: a backup or restore long enough to interrupt. */
  Path bigImage() throws Exception {
    return randomImage(dir, "big.qcow2", 256);
  }

  /**
   * A qcow2 image in {@code dir} holding {@code mib} MiB of random guest data (fixed seed) from its
   * start, with a virtual size four times that.
   */
  static Path randomImage(Path dir, String name, int mib) throws Exception {
    return randomImage(dir, name, mib, false);
  }

  /** As {@link #randomImage(Path, String, int)}; with {@code letters}, random lowercase letters and spaces. */
  static Path randomImage(Path dir, String name, int mib, boolean letters) throws Exception {
    Path image = dir.resolve(name);
    qemu("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), mib + "M");
    Path pattern = dir.resolve("pattern");
    byte[] random = new byte[8 << 20];
    new java.util.Random(7).nextBytes(random);
    if (letters) {
      for (int i = 0; i < random.length; i++) {
        int v = Math.floorMod(random[i], 27);
        random[i] = (byte) (v == 26 ? ' ' : 'a' + v);
      }
    }
    Files.write(pattern, random);
    List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < mib / 8; i++) {
      io.add("-c");
      io.add("write -q -s " + pattern + " " + (i * 8) + "M 8M");
    }
    io.add(image.toString());
    qemu(io.toArray(String[]::new));
    qemu("qemu-img", "resize", "-q", image.toString(), (4 * mib) + "M");
    return image;
  }

  static Process start(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", Path.of("target", "tidemark.jar").toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Waits until a file whose name starts with {@code prefix} appears in {@code dir}. */
  static boolean awaitFile(Path dir, String prefix, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && p.isAlive()) {
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          if (s.anyMatch(x -> x.getFileName().toString().startsWith(prefix))) {
            return true;
          }
        }
      }
      Thread.sleep(2);
    }
    return false;
  }

  static List<String> names(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var s = Files.list(dir)) {
      return s.map(x -> x.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * Runs the command and sends it SIGINT (Ctrl-C) once a file starting with {@code tempPrefix}
   * appears in {@code folder}; it must end with the interrupted exit code.
   */
  static void interruptOnceWriting(Path folder, String tempPrefix, String... args) throws Exception {
    Process p = start(args);
    assertTrue(awaitFile(folder, tempPrefix, p), String.join(" ", args) + ": started writing");
    qemu("kill", "-INT", Long.toString(p.pid()));
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(ExitCodes.INTERRUPTED, p.exitValue());
  }

  @Test
  void ctrlCDuringABackupOrARestoreLeavesNothingBehind() throws Exception {
    Path image = bigImage();
    Path repo = dir.resolve("repo");
    interruptOnceWriting(repo.resolve("sample"), ".cp1.tar.tmp-", "backup", "--repo", repo.toString(),
        "--checkpoint", "../sample/checkpoints/cp1.xml", "--disk", "vda=" + image, "--compress", "deflate");
    assertEquals(List.of(org.tidemark.archive.RepositoryLock.FILE_NAME), names(repo.resolve("sample")),
        "no archive and no temporary file (the domain's lock file stays)");

    assertEquals(0, tidemark("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + image, "--compress", "deflate", "-q").code());
    Path out = dir.resolve("restored");
    interruptOnceWriting(out, ".vda.raw.tmp-", "restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        out.toString());
    assertEquals(List.of(), names(out), "no image, no domain XML, no temporary file");

    Run again = tidemark("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--json");
    assertEquals(0, again.code(), again.err());
    assertEquals(List.of("sample.xml", "vda.raw"), names(out));
    qemu("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", image.toString(), out.resolve("vda.raw").toString());
  }

  @Test
  void ctrlCDuringAQcow2RestoreLeavesNothingBehindAndTheNextOneIsCleanByQemu() throws Exception {
    Path image = bigImage();
    Path repo = dir.resolve("repo");
    assertEquals(0, tidemark("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + image, "--compress", "deflate", "-q").code());
    Path out = dir.resolve("restored");
    interruptOnceWriting(out, ".vda.qcow2.tmp-", "restore", "--repo", repo.toString(), "--domain", "sample", "--to",
        out.toString(), "--format", "qcow2");
    assertEquals(List.of(), names(out), "no image, no domain XML, no temporary file");

    Run again = tidemark("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(),
        "--format", "qcow2", "--json");
    assertEquals(0, again.code(), again.err());
    assertTrue(again.out().contains("\"format\" : \"qcow2\"") || again.out().contains("\"format\":\"qcow2\""), again.out());
    assertEquals(List.of("sample.xml", "vda.qcow2"), names(out));
    qemu("qemu-img", "check", "-q", "-f", "qcow2", out.resolve("vda.qcow2").toString());
    qemu("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", image.toString(), out.resolve("vda.qcow2").toString());
    long size = Files.size(out.resolve("vda.qcow2"));
    assertTrue(size < (256L << 20) + (1 << 20), "thin: 256 MiB of data in a 1 GiB disk, file " + size);
  }

  @Test
  void aFullDiskGivesAnIoErrorAndLeavesNothingBehind() throws Exception {
    Path image = bigImage();
    Path repo = dir.resolve("repo");
    assertEquals(0, tidemark("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + image, "--compress", "deflate", "-q").code());
    // a 32 MiB file system, mounted in a private mount namespace (unshare -rm: root or not)
    Path small = Files.createDirectories(dir.resolve("small"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String jar = Path.of("target", "tidemark.jar").toAbsolutePath().toString();
    String script = String.join("\n",
        "mount -t tmpfs -o size=32m tmpfs " + small + " || exit 99",
        java + " -jar " + jar + " backup --repo " + small + "/repo --checkpoint ../sample/checkpoints/cp1.xml --disk vda="
            + image + " --compress none 2>" + small + "/backup.err",
        "echo backup-exit=$?",
        "echo backup-err=$(cat " + small + "/backup.err | wc -l):$(cat " + small + "/backup.err)",
        // the domain's lock file stays by design (a backup creates it first and never deletes it)
        "echo backup-left=$(ls -A " + small + "/repo/sample | grep -vx '\\.lock')",
        java + " -jar " + jar + " restore --repo " + repo + " --domain sample --to " + small + "/out 2>" + small + "/restore.err",
        "echo restore-exit=$?",
        "echo restore-err=$(cat " + small + "/restore.err | wc -l):$(cat " + small + "/restore.err)",
        "echo restore-left=$(ls -A " + small + "/out)");
    Process p = new ProcessBuilder("unshare", "-rm", "sh", "-c", script).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "the small file system could be mounted: " + out);
    for (String op : new String[] {"backup", "restore"}) {
      assertTrue(out.contains(op + "-exit=" + ExitCodes.IO_ERROR + "\n"), op + " exits with the I/O error code: " + out);
      assertTrue(out.contains(op + "-err=1:"), op + ": one line on stderr: " + out);
      // the backup runs out of space and names the archive and its file system; the restore checks the space
      // it needs before writing anything and says it would not fit
      String why = op.equals("backup") ? "sample/cp1.tar: No space left on device: the file system " + small
          : "/out: not enough space for the restore";
      assertTrue(out.matches("(?s).*" + op + "-err=1:[^\n]*" + Pattern.quote(why) + ".*"), op + " says why: " + out);
      assertTrue(out.contains(op + "-left=\n"), op + " leaves nothing on the full file system: " + out);
    }
  }

  @Test
  void aBackupKilledMidwayLeavesNoArchiveAndTheNextOneSucceeds() throws Exception {
    // text-like data: the backup compresses every chunk (random bytes are stored as they are, fast
    // enough to end before the last kill)
    Path image = randomImage(dir, "big.qcow2", 512, true);
    Path repo = dir.resolve("repo");
    boolean killedWhileWriting = false;
    // -1: kill as soon as the temporary archive appears (on a loaded machine the JVM may take
    // longer than the fixed delays just to start)
    for (int killAfterMs : new int[] {150, 700, 1500, -1}) {
      List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-jar", Path.of("target", "tidemark.jar").toString(), "backup", "--repo", repo.toString(),
          "--checkpoint", "../sample/checkpoints/cp1.xml", "--disk", "vda=" + image, "--compress", "deflate"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (killAfterMs < 0) {
        assertTrue(awaitFile(repo.resolve("sample"), ".cp1.tar.tmp-", p), "the backup started writing");
      } else {
        Thread.sleep(killAfterMs);
      }
      assertTrue(p.isAlive(), "the backup ended before the kill at " + killAfterMs + " ms: the test image is too small");
      p.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup
      p.waitFor(60, TimeUnit.SECONDS);
      Path domain = repo.resolve("sample");
      if (Files.isDirectory(domain)) {
        try (var s = Files.list(domain)) {
          List<String> names = s.map(x -> x.getFileName().toString()).toList();
          assertTrue(names.stream().noneMatch(n -> n.endsWith(".tar") && !n.startsWith(".")),
              "killed after " + killAfterMs + " ms: no complete-looking archive, found " + names);
          killedWhileWriting |= names.stream().anyMatch(n -> n.startsWith(".cp1.tar.tmp-"));
        }
      }
      if (Files.isDirectory(repo)) {
        Run verify = tidemark("verify", "--repo", repo.toString());
        assertEquals(0, verify.code(), verify.err());
      }
    }
    assertTrue(killedWhileWriting, "at least one kill landed while the archive was being written");
    Run next = tidemark("backup", "--repo", repo.toString(), "--checkpoint", "../sample/checkpoints/cp1.xml",
        "--disk", "vda=" + image, "--json");
    assertEquals(0, next.code(), next.err());
    try (var s = Files.list(repo.resolve("sample"))) {
      assertEquals(List.of("cp1.tar"), s.map(x -> x.getFileName().toString())
          .filter(n -> !n.equals(org.tidemark.archive.RepositoryLock.FILE_NAME)).toList(), "leftovers removed");
    }
    assertEquals(0, tidemark("verify", "--repo", repo.toString()).code());
  }

  @Test
  void formatPrintsWhatLibvirtWrote() throws Exception {
    Run r = tidemark("checkpoint", "format", "../sample/checkpoints/cp2.xml");
    assertEquals(0, r.code(), r.err());
    assertEquals(Files.readString(Path.of("../sample/checkpoints/cp2.xml")), r.out());
  }
}
