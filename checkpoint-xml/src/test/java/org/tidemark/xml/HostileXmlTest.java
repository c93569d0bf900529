package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Documents that get past a text search for {@code <!DOCTYPE}/{@code <!ENTITY}: other encodings
 * (the parser detects UTF-16 and UTF-32 from the first bytes, with or without a byte order mark,
 * and honours an XML declaration's encoding) and declarations the parser sees but a search for
 * the first {@code <!DOCTYPE} does not. Each is refused with a typed error, having allocated
 * little: the refusal comes before any entity is expanded.
 */
class HostileXmlTest {
  private static final ThreadMXBean THREADS = (ThreadMXBean) ManagementFactory.getThreadMXBean();

  /**
   * An entity bomb of about 1.8 MB: 40 entities of 20,000 characters, each referenced 2,500
   * times from one more entity; the reference expands to 50 million characters, just under the
   * JDK's total entity size limit, and the document is otherwise a valid checkpoint.
   */
  static String entityBomb() {
    StringBuilder b = new StringBuilder("<?xml version='1.0' encoding='UTF-16'?>\n<!DOCTYPE domaincheckpoint [\n");
    for (int i = 0; i < 40; i++) {
      b.append("<!ENTITY e").append(i).append(" '").append("x".repeat(20_000)).append("'>\n");
    }
    b.append("<!ENTITY all '");
    for (int r = 0; r < 62; r++) {
      for (int i = 0; i < 40; i++) {
        b.append("&e").append(i).append(';');
      }
    }
    b.append("'>\n]>\n<domaincheckpoint>\n  <name>cp1</name>\n  <description>&all;</description>\n"
        + "  <creationTime>5</creationTime>\n</domaincheckpoint>\n");
    return b.toString();
  }

  static java.util.stream.Stream<Arguments> otherEncodings() {
    String bomb = entityBomb();
    String plain = bomb.replace("encoding='UTF-16'", "encoding='%s'");
    return java.util.stream.Stream.of(
        Arguments.of("UTF-16BE without BOM", bytes(bomb, StandardCharsets.UTF_16BE, null), "UTF-16BE"),
        Arguments.of("UTF-16LE without BOM", bytes(bomb, StandardCharsets.UTF_16LE, null), "UTF-16LE"),
        Arguments.of("UTF-16BE with BOM", bytes(bomb, StandardCharsets.UTF_16BE, new byte[] {(byte) 0xfe, (byte) 0xff}), "UTF-16BE"),
        Arguments.of("UTF-16LE with BOM", bytes(bomb, StandardCharsets.UTF_16LE, new byte[] {(byte) 0xff, (byte) 0xfe}), "UTF-16LE"),
        Arguments.of("UTF-32BE", bytes(plain.formatted("UTF-32"), Charset.forName("UTF-32BE"), null), "UTF-32BE"),
        Arguments.of("UTF-32LE", bytes(plain.formatted("UTF-32"), Charset.forName("UTF-32LE"), null), "UTF-32LE"),
        Arguments.of("declared ISO-8859-1", bytes(plain.formatted("ISO-8859-1"), StandardCharsets.ISO_8859_1, null), "ISO-8859-1"),
        Arguments.of("declared UTF-16 in UTF-8 bytes", bytes(bomb, StandardCharsets.UTF_8, null), "UTF-16"));
  }

  private static byte[] bytes(String text, Charset cs, byte[] bom) {
    byte[] body = text.getBytes(cs);
    if (bom == null) {
      return body;
    }
    byte[] all = new byte[bom.length + body.length];
    System.arraycopy(bom, 0, all, 0, bom.length);
    System.arraycopy(body, 0, all, bom.length, body.length);
    return all;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("otherEncodings")
  void documentsNotInUtf8AreRefusedNamingTheirEncoding(String what, byte[] xml, String encoding) {
    long before = THREADS.getCurrentThreadAllocatedBytes();
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(xml, "bomb.xml", Set.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN)));
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    assertTrue(e.getMessage().startsWith("bomb.xml:"), e.getMessage());
    assertTrue(e.problem().contains(encoding) && e.problem().contains("only UTF-8"), e.getMessage());
    // the 50 million characters the bomb expands to would take 100 MB; refused before decoding
    assertTrue(allocated < 8 << 20, what + ": " + allocated + " bytes allocated");
  }

  @Test
  void theSameBombInUtf8IsRefusedAtItsFirstDeclaration() {
    byte[] xml = entityBomb().replace("encoding='UTF-16'", "encoding='UTF-8'").getBytes(StandardCharsets.UTF_8);
    long before = THREADS.getCurrentThreadAllocatedBytes();
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(xml, "bomb.xml", Set.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN)));
    long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.problem().contains("entity declarations are not allowed"), e.getMessage());
    assertTrue(allocated < 32 << 20, allocated + " bytes allocated");
  }

  /** Declarations a search for the first {@code <!DOCTYPE} and for {@code <!ENTITY} misses. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("hiddenDeclarations")
  void declarationsThatATextSearchMissesAreRefusedByTheParser(String what, String xml, String expected) {
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(xml.getBytes(StandardCharsets.UTF_8), "hidden.xml",
            Set.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN)));
    assertTrue(e.problem().contains(expected), what + ": " + e.getMessage());
    assertTrue(e.line() > 0, e.getMessage());
  }

  static java.util.stream.Stream<Arguments> hiddenDeclarations() {
    String body = "<domaincheckpoint>\n  <name>cp1</name>\n  <creationTime>5</creationTime>\n"
        + "  <disks>\n    <disk name='vda'/>\n  </disks>\n</domaincheckpoint>\n";
    return java.util.stream.Stream.of(
        // an attribute default turns every disk's checkpoint off, behind a commented bare DOCTYPE
        Arguments.of("ATTLIST behind a commented DOCTYPE",
            "<!-- <!DOCTYPE domaincheckpoint> -->\n<!DOCTYPE domaincheckpoint [\n<!ATTLIST disk checkpoint CDATA 'no'>\n]>\n" + body,
            "DTD declarations are not allowed"),
        Arguments.of("ELEMENT behind a commented DOCTYPE",
            "<!-- <!DOCTYPE domaincheckpoint> -->\n<!DOCTYPE domaincheckpoint [\n<!ELEMENT name ANY>\n]>\n" + body,
            "DTD declarations are not allowed"),
        Arguments.of("unparsed entity behind a commented DOCTYPE",
            "<!-- <!DOCTYPE domaincheckpoint> -->\n<!DOCTYPE domaincheckpoint [\n<!NOTATION n SYSTEM 'n'>\n]>\n" + body,
            "DTD declarations are not allowed"),
        Arguments.of("DOCTYPE naming another element", "<!DOCTYPE domain>\n" + body,
            "only a bare <!DOCTYPE domaincheckpoint>"),
        Arguments.of("external DTD", "<!DOCTYPE domaincheckpoint SYSTEM 'http://127.0.0.1:9/x.dtd'>\n" + body,
            "only a bare <!DOCTYPE domaincheckpoint>"));
  }

  @Test
  void aBareDoctypeAndAnXmlDeclarationInUtf8AreAccepted() throws Exception {
    // far more predefined entity references than the JDK's entity limits, set low, would allow
    // if they counted them
    String body = "<domaincheckpoint>\n  <name>cp1</name>\n  <description>a &lt; b &amp; &#x63;" + "&amp;&gt;&apos;&quot;&#65;".repeat(10_000) + "</description>\n"
        + "  <creationTime>5</creationTime>\n</domaincheckpoint>\n";
    for (String head : new String[] {"", "<!DOCTYPE domaincheckpoint>\n", "<!DOCTYPE  domaincheckpoint >\n",
        "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE domaincheckpoint>\n", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "\uFEFF<?xml version='1.0'?>\n", "<?xml-stylesheet href='x.css' encoding='latin1'?>\n"}) {
      var c = CheckpointXml.parse((head + body).getBytes(StandardCharsets.UTF_8), "ok.xml",
          Set.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN));
      assertEquals("a < b & c" + "&>'\"A".repeat(10_000), c.description().orElseThrow(), head);
    }
  }
}
