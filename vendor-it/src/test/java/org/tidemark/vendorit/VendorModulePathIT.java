package org.tidemark.vendorit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A vendor's modular application: backup-engine's test source {@code org/tidemark/vendor/VendorProgram.java}
 * and its own {@code module-info.java} ({@code requires org.tidemark.engine}, nothing else) are
 * compiled with {@code javac --module-path} against the built library jars and their dependencies,
 * and run with {@code java --module-path} and no {@code --add-modules}. The program makes a full and
 * an incremental backup of the sample disk (zstd chunks), verifies both archives and restores the
 * newest point, through the public API only. What it did is checked from outside: the archives with
 * {@code tar}, their manifests read as JSON, the restored disk with {@code qemu-img compare}.
 */
class VendorModulePathIT {
  private static final Path SAMPLE = Path.of("..", "sample");
  private static final Path PROGRAM =
      Path.of("..", "backup-engine", "src", "test", "java", "org", "tidemark", "vendor", "VendorProgram.java");
  private static final Path MODULE_INFO = Path.of("src", "test", "vendor", "module-info.java");

  @TempDir Path dir;

  @Test
  void aModularVendorProgramBacksUpVerifiesAndRestoresThroughThePublicApi() throws Exception {
    String modulePath = Files.readString(Path.of("target", "vendor-module-path.txt")).strip();
    assertTrue(modulePath.contains("backup-engine"), modulePath);

    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("org/tidemark/vendor"));
    Files.copy(MODULE_INFO, src.resolve("module-info.java"));
    Files.copy(PROGRAM, src.resolve("org/tidemark/vendor/VendorProgram.java"));
    // the vendor's entry point around the program (the program is the library guide's example)
    Path main = src.resolve("org/tidemark/vendor/Main.java");
    Files.writeString(main, """
        package org.tidemark.vendor;
        import java.nio.file.Path;
        import java.util.List;
        public final class Main {
          public static void main(String[] a) throws Exception {
            var report = VendorProgram.run(Path.of(a[0]), List.of(Path.of(a[2]), Path.of(a[3])), Path.of(a[1]),
                Path.of(a[4]));
            System.out.println("verified: " + report.verified().size() + " archives, " + report.findings().size()
                + " problems " + report.findings());
          }
        }
        """);
    Path classes = dir.resolve("classes");
    Result javac = run(List.of(tool("javac"), "--module-path", modulePath, "-d", classes.toString(),
        src.resolve("module-info.java").toString(), src.resolve("org/tidemark/vendor/VendorProgram.java").toString(),
        main.toString()));
    assertEquals(0, javac.exit, javac::toString);

    Path repo = dir.resolve("repo");
    Path restored = Files.createDirectories(dir.resolve("restored"));
    Path image = SAMPLE.resolve("vda.qcow2");
    Result program = run(List.of(tool("java"), "--module-path", classes + File.pathSeparator + modulePath,
        "-m", "org.tidemark.vendor/org.tidemark.vendor.Main", repo.toString(), SAMPLE.toString(),
        SAMPLE.resolve("checkpoints/cp1.xml").toString(), SAMPLE.resolve("checkpoints/cp2.xml").toString(),
        restored.toString()));
    assertEquals(0, program.exit, program::toString);
    assertEquals(List.of("verified: 2 archives, 0 problems []"), program.out.lines().toList(), program::toString);

    // the archives, as tar and a JSON parser read them
    Path cp1 = repo.resolve("sample/cp1.tar");
    Path cp2 = repo.resolve("sample/cp2.tar");
    JsonNode full = manifest(cp1);
    JsonNode incremental = manifest(cp2);
    assertTrue(full.path("parent").isNull() || full.path("parent").isMissingNode(), full::toString);
    assertEquals("cp1", incremental.path("parent").path("checkpoint").asText(), incremental::toString);
    assertEquals("full", full.path("disks").path(0).path("kind").asText(), full::toString);
    assertEquals("incremental", incremental.path("disks").path(0).path("kind").asText(), incremental::toString);
    assertTrue(tar("-tf", cp2).contains("manifest.json"));

    // the restored disk is the source disk, as qemu-img compares them
    Result compare = run(List.of("qemu-img", "compare", "-f", "qcow2", "-F", "raw", image.toString(),
        restored.resolve("vda.img").toString()));
    assertEquals(0, compare.exit, compare::toString);
  }

  @Test
  void theEnginesInternalPackageIsNotVisibleToAVendor() throws Exception {
    String modulePath = Files.readString(Path.of("target", "vendor-module-path.txt")).strip();
    Path src = dir.resolve("src");
    Files.createDirectories(src.resolve("org/tidemark/vendor"));
    Files.copy(MODULE_INFO, src.resolve("module-info.java"));
    Path program = src.resolve("org/tidemark/vendor/UsesInternals.java");
    Files.writeString(program, """
        package org.tidemark.vendor;
        public final class UsesInternals {
          public static void main(String[] args) {
            System.out.println(new String(org.tidemark.internal.JsonText.write(java.util.Map.of())));
          }
        }
        """);
    Result javac = run(List.of(tool("javac"), "--module-path", modulePath, "-d", dir.resolve("classes").toString(),
        src.resolve("module-info.java").toString(), program.toString()));
    assertEquals(1, javac.exit, javac::toString);
    assertTrue(javac.err.contains("package org.tidemark.internal is not visible"), javac::toString);
  }

  private JsonNode manifest(Path archive) throws IOException, InterruptedException {
    return new ObjectMapper().readTree(tar("-xOf", archive, "manifest.json"));
  }

  private String tar(String mode, Path archive, String... entries) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("tar", mode, archive.toString()));
    command.addAll(List.of(entries));
    Result r = run(command);
    assertEquals(0, r.exit, r::toString);
    return r.out;
  }

  /** A JDK tool of the JDK running the tests. */
  private static String tool(String name) {
    return Path.of(System.getProperty("java.home"), "bin", name).toString();
  }

  private record Result(List<String> command, int exit, String out, String err) {
    @Override
    public String toString() {
      return String.join(" ", command) + "\nexit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private Result run(List<String> command) throws IOException, InterruptedException {
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("did not end in 5 minutes: " + command);
    }
    return new Result(command, p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

}
