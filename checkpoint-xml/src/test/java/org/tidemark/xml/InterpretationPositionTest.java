package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Errors found after the grammar accepted a document, while its values are interpreted, carry the
 * line and column of the offending element as grammar errors do: the position where its start tag
 * ends (the column after its {@code >}, as the SAX locator and Jing give it). Each case edits the
 * sample checkpoint (as {@code virsh checkpoint-dumpxml} prints it) in one place; the expected
 * position is counted by hand from that line of text.
 */
class InterpretationPositionTest {
  private static final Path CP1 = Path.of("..", "sample", "checkpoints", "cp1.xml");

  static Stream<Arguments> cases() {
    return Stream.of(
        // line 4 "  <creationTime>…": the start tag is 16 characters long
        Arguments.of("<creationTime>1795572196</creationTime>", "<creationTime>99999999999999999999</creationTime>",
            4, 17, "invalid creationTime '99999999999999999999'"),
        Arguments.of("  <creationTime>1795572196</creationTime>\n", "", 1, 19, "a redefined checkpoint needs a <creationTime>"),
        // line 7 "    <disk name='vda' checkpoint='no'/>": 38 characters
        Arguments.of("<disk name='sda' checkpoint='no'/>", "<disk name='vda' checkpoint='no'/>", 7, 39,
            "disk 'vda' specified twice"),
        // line 6 "    <disk name='vdz' checkpoint='bitmap' bitmap='cp1'/>": 55 characters
        Arguments.of("<disk name='vda' checkpoint='bitmap' bitmap='cp1'/>", "<disk name='vdz' checkpoint='bitmap' bitmap='cp1'/>",
            6, 56, "no disk named 'vdz'"),
        // line 7 "    <disk name='sda' checkpoint='bitmap'/>": 42 characters; sda is a read-only cdrom
        Arguments.of("<disk name='sda' checkpoint='no'/>", "<disk name='sda' checkpoint='bitmap'/>", 7, 43,
            "disk 'sda' is empty or readonly"));
  }

  @ParameterizedTest(name = "{4}")
  @MethodSource("cases")
  void anInterpretationErrorNamesTheElementsLineAndColumn(String from, String to, int line, int column, String problem)
      throws Exception {
    String original = Files.readString(CP1);
    String edited = original.replace(from, to);
    assertEquals(false, edited.equals(original), "the edit applies");
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(edited.getBytes(StandardCharsets.UTF_8), "cp1.xml", Set.of(), DomainGrammar.builtIn()));
    assertEquals(problem, e.problem(), e.getMessage());
    assertEquals(line, e.line(), e.getMessage());
    assertEquals(column, e.column(), e.getMessage());
    assertEquals("cp1.xml:" + line + ":" + column + ": " + problem, e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void aMissingDomainIsReportedAtTheRootElement() throws Exception {
    String original = Files.readString(CP1);
    String edited = original.substring(0, original.indexOf("  <domain")) + "</domaincheckpoint>\n";
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(edited.getBytes(StandardCharsets.UTF_8), "cp1.xml", Set.of(), DomainGrammar.builtIn()));
    assertEquals(1, e.line(), e.getMessage());
    assertEquals(19, e.column(), e.getMessage()); // "<domaincheckpoint>" is 18 characters
  }
}
