package org.tidemark.vendor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The library guide's main example is {@link VendorProgram}, verbatim: the two cannot drift apart. */
class LibraryGuideTest {
  private static final Path GUIDE = Path.of("..", "docs", "library-guide.md");
  private static final String MARKER = "<!-- VendorProgram.java -->\n```java\n";

  @Test
  void theGuidesProgramIsVendorProgramJava() throws Exception {
    String guide = Files.readString(GUIDE);
    int start = guide.indexOf(MARKER);
    assertTrue(start >= 0, "the guide marks its program with " + MARKER.strip());
    start += MARKER.length();
    int end = guide.indexOf("```\n", start);
    assertTrue(end > start, "the program's code block ends");
    assertEquals(Files.readString(VendorProgramTest.SOURCE), guide.substring(start, end),
        "docs/library-guide.md's program differs from " + VendorProgramTest.SOURCE);
  }
}
