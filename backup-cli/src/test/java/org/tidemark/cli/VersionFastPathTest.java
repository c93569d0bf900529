package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code tidemark --version} and {@code -V} are answered before picocli builds its model: the text
 * must be exactly what picocli prints for them, and only the bare forms may skip picocli.
 */
class VersionFastPathTest {
  @Test
  void theFastPathPrintsWhatPicocliPrints() {
    for (String option : new String[] {"--version", "-V"}) {
      Cli.Result picocli = Cli.run(option);
      assertEquals(0, picocli.code(), picocli.toString());
      assertEquals(picocli.out(), Main.versionText(), option);
      assertEquals("", picocli.err());
    }
    assertTrue(Main.versionText().startsWith("tidemark " + Main.Version.version() + System.lineSeparator()));
  }

  @Test
  void onlyTheBareOptionSkipsPicocli() {
    assertTrue(Main.isVersionRequest(new String[] {"--version"}));
    assertTrue(Main.isVersionRequest(new String[] {"-V"}));
    // anything else goes through picocli: its errors, its help, its inherited options
    assertFalse(Main.isVersionRequest(new String[] {}));
    assertFalse(Main.isVersionRequest(new String[] {"--debug", "--version"}));
    assertFalse(Main.isVersionRequest(new String[] {"--version", "backup"}));
    assertFalse(Main.isVersionRequest(new String[] {"backup", "--version"}));
    assertFalse(Main.isVersionRequest(new String[] {"--versions"}));
    assertFalse(Main.isVersionRequest(new String[] {"-v"}));
  }
}
