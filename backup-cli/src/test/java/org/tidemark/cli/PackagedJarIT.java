package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    Run h = tidemark("--help");
    assertEquals(0, h.code());
    assertTrue(h.out().contains("Exit codes:"), h.out());
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

  @Test
  void formatPrintsWhatLibvirtWrote() throws Exception {
    Run r = tidemark("checkpoint", "format", "../sample/checkpoints/cp2.xml");
    assertEquals(0, r.code(), r.err());
    assertEquals(Files.readString(Path.of("../sample/checkpoints/cp2.xml")), r.out());
  }
}
