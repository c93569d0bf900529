package org.tidemark.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without libnbd (a JVM whose JNA looks for it nowhere), opening an export is a typed error naming
 * the package to install, not an UnsatisfiedLinkError; preloading it first changes nothing.
 */
class LibNbdMissingTest {
  /** Run in the child JVM: prints what opening an export threw. */
  public static void main(String[] args) {
    try {
      NbdExport.preload(); // silent: open says what is missing
      NbdExport.open(NbdEndpoint.unix(Path.of("/nonexistent.sock"), "vda"), List.of(), 1).close();
      System.out.println("opened");
    } catch (Throwable e) {
      System.out.println(e.getClass().getName() + ": " + e.getMessage());
    }
  }

  @Test
  void aMissingLibnbdIsATypedErrorNamingThePackage() throws Exception {
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djna.platform.library.path=/nonexistent", "-Djna.library.path=/nonexistent",
        "-cp", System.getProperty("java.class.path"), LibNbdMissingTest.class.getName())
        // stderr aside: JDK 24+ warns there about JNA's System.load (the packaged jar declares native access)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(NbdException.class.getName() + ": libnbd is not installed (libnbd.so.0 was not found; Debian/Ubuntu:"
        + " apt-get install libnbd0): a live backup reads the disks over NBD through it", out);
  }
}
