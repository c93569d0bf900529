package org.tidemark.vendor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryVerifier;
import org.tidemark.archive.StoredBackup;
import org.tidemark.qcow2.Qemu;

/**
 * Runs {@link VendorProgram} on the sample (a qcow2 disk with checkpoints cp1 and cp2): a full and
 * an incremental backup, a restore through the vendor's own target, a sound verify; the restored
 * disk is what {@code qemu-img compare} calls identical to the source. Also holds the program to
 * its promises: public API only, under 30 lines.
 */
class VendorProgramTest {
  static final Path SOURCE = Path.of("src/test/java/org/tidemark/vendor/VendorProgram.java");
  private static final Path SAMPLE = Path.of("..", "sample");

  @TempDir Path dir;

  @Test
  void fullAndIncrementalBackupRestoreAndVerifyThroughThePublicApi() throws Exception {
    Path out = Files.createDirectories(dir.resolve("out"));
    RepositoryVerifier.Report report = VendorProgram.run(dir.resolve("repo"),
        List.of(SAMPLE.resolve("checkpoints/cp1.xml"), SAMPLE.resolve("checkpoints/cp2.xml")), SAMPLE, out);
    assertTrue(report.sound(), report.findings().toString());
    assertEquals(2, report.verified().size());
    List<StoredBackup> chain = Repository.at(dir.resolve("repo")).chain("sample", Optional.empty());
    assertEquals(List.of("cp2", "cp1"), chain.stream().map(StoredBackup::checkpoint).toList());
    assertTrue(chain.get(0).manifest().parent().isPresent(), "cp2 is an incremental on cp1");
    assertEquals(List.of(out.resolve("vda.img")), Files.list(out).toList(), "the vendor's target, its names");
    // ground truth: QEMU reads the restored raw disk as the source's guest content
    String compare = Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", "raw",
        SAMPLE.resolve("vda.qcow2").toString(), out.resolve("vda.img").toString());
    assertTrue(compare.contains("Images are identical"), compare);
  }

  @Test
  void theProgramImportsPublicApiOnlyAndIsUnderThirtyLines() throws Exception {
    String text = Files.readString(SOURCE);
    Matcher m = Pattern.compile("(?m)^import (org\\.tidemark\\.[\\w.]+);").matcher(text);
    int imports = 0;
    while (m.find()) {
      imports++;
      String name = m.group(1);
      assertFalse(name.contains(".internal."), name);
      Class<?> c = Class.forName(name);
      assertTrue(Modifier.isPublic(c.getModifiers()), name + " is public API");
    }
    assertTrue(imports > 5, "imports found: " + imports);
    // the vendor code: the run method, blank lines not counted
    String body = text.substring(text.indexOf("  public static RepositoryVerifier.Report run("),
        text.lastIndexOf("\n}"));
    long lines = body.lines().filter(l -> !l.isBlank()).count();
    assertTrue(lines < 30, "vendor code: " + lines + " lines");
  }
}
