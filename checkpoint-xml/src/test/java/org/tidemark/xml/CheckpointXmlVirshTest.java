package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.Virsh;

/**
 * libvirt decides: each input is redefined on virsh's test driver and dumped back; Tidemark must
 * accept exactly what virsh accepts and format exactly what virsh prints.
 */
class CheckpointXmlVirshTest {
  @TempDir static Path dir;
  /** The test driver's domain as libvirt formats it inside a checkpoint (indented two spaces). */
  static String domain;

  @BeforeAll
  static void domainFromLibvirt() throws Exception {
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create-as test base", "checkpoint-dumpxml test base"));
    String doc = r.get(1).output();
    domain = doc.substring(doc.indexOf("  <domain"), doc.indexOf("</domaincheckpoint>"));
  }

  /** A document: name, optional parent, creation time text, the inside of <disks>, extra children. */
  static String doc(String name, String parent, String created, String disks, String extra, boolean withDomain) {
    return "<domaincheckpoint>\n"
        + (name == null ? "" : "  <name>" + name + "</name>\n")
        + extra
        + (parent == null ? "" : "  <parent>\n    <name>" + parent + "</name>\n  </parent>\n")
        + (created == null ? "" : "  <creationTime>" + created + "</creationTime>\n")
        + (disks == null ? "" : "  <disks>\n" + disks + "  </disks>\n")
        + (withDomain ? domain : "")
        + "</domaincheckpoint>\n";
  }

  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    String vda = "    <disk name='vda' checkpoint='bitmap' bitmap='b1'/>\n";
    a.add(Arguments.of("plain", doc("cp1", null, "1700000000", vda, "", true)));
    a.add(Arguments.of("checkpoint attribute absent means bitmap", doc("cp1", null, "5", "    <disk name='vda' bitmap='x'/>\n", "", true)));
    a.add(Arguments.of("bitmap name defaults to the checkpoint's", doc("cp1", null, "5", "    <disk name='vda'/>\n", "", true)));
    a.add(Arguments.of("untracked disk", doc("cp1", null, "5", "    <disk name='vda' checkpoint='no'/>\n", "", true)));
    a.add(Arguments.of("creationTime 0 accepted, not printed", doc("cp1", null, "0", vda, "", true)));
    a.add(Arguments.of("leading zeros", doc("cp1", null, "000100", vda, "", true)));
    a.add(Arguments.of("whitespace around a number", doc("cp1", null, " 1 ", vda, "", true)));
    a.add(Arguments.of("negative time", doc("cp1", null, "-1", vda, "", true)));
    a.add(Arguments.of("empty description is absent", doc("cp1", null, "7", vda, "  <description></description>\n", true)));
    a.add(Arguments.of("entities escaped", doc("cp1", null, "7", vda, "  <description>a &lt;b&gt; &amp; 'c' \"d\"</description>\n", true)));
    a.add(Arguments.of("bare doctype", "<!DOCTYPE domaincheckpoint>\n" + doc("cp1", null, "7", vda, "", true)));
    a.add(Arguments.of("no name", doc(null, null, "7", vda, "", true)));
    a.add(Arguments.of("no creationTime", doc("cp1", null, null, vda, "", true)));
    a.add(Arguments.of("name with a slash", doc("a/b", null, "7", vda, "", true)));
    a.add(Arguments.of("name with a leading dot", doc(".a", null, "7", vda, "", true)));
    a.add(Arguments.of("unknown checkpoint kind", doc("cp1", null, "7", "    <disk name='vda' checkpoint='maybe'/>\n", "", true)));
    a.add(Arguments.of("no with a bitmap", doc("cp1", null, "7", "    <disk name='vda' checkpoint='no' bitmap='x'/>\n", "", true)));
    a.add(Arguments.of("size attribute", doc("cp1", null, "7", "    <disk name='vda' bitmap='b' size='1024'/>\n", "", true)));
    a.add(Arguments.of("disk by path", doc("cp1", null, "7", "    <disk name='/guest/diskimage1' checkpoint='no'/>\n", "", true)));
    a.add(Arguments.of("bad disk name", doc("cp1", null, "7", "    <disk name='hello' checkpoint='no'/>\n", "", true)));
    a.add(Arguments.of("empty disks", doc("cp1", null, "7", "", "", true)));
    a.add(Arguments.of("unknown element", doc("cp1", null, "7", vda, "  <color>red</color>\n", true)));
    a.add(Arguments.of("children out of order", "<domaincheckpoint>\n  <creationTime>9</creationTime>\n  <disks>\n" + vda
        + "  </disks>\n  <name>late</name>\n" + domain + "</domaincheckpoint>\n"));
    a.add(Arguments.of("not well-formed", "<domaincheckpoint><name>x</name>"));
    a.add(Arguments.of("wrong root", "<domainsnapshot><name>x</name></domainsnapshot>\n"));
    a.add(Arguments.of("disk listed twice", doc("cp1", null, "7", vda + vda, "", true)));
    a.add(Arguments.of("no disks element: all tracked", doc("cp1", null, "7", null, "", true)));
    a.add(Arguments.of("unknown disk", doc("cp1", null, "7", "    <disk name='vdz'/>\n", "", true)));
    a.add(Arguments.of("with a parent", doc("cp1", "base", "7", vda, "", true)));
    a.add(Arguments.of("description with newlines", doc("cp1", null, "7", vda, "  <description>line 1\nline 2</description>\n", true)));
    a.add(Arguments.of("numbers past 63 bits", doc("cp1", null, "9223372036854775808", vda, "", true)));
    // the embedded domain is validated with libvirt's domain grammar, as libvirt does
    a.add(Arguments.of("unknown element in the domain", doc("cp1", null, "7", vda,
        domain.replace("    <vcpu", "    <bogus/>\n    <vcpu"), false)));
    a.add(Arguments.of("unknown domain type", doc("cp1", null, "7", vda, domain.replace("<domain type='test'>", "<domain type='nosuch'>"), false)));
    a.add(Arguments.of("memory not a number", doc("cp1", null, "7", vda,
        domain.replace("<memory unit='KiB'>8388608</memory>", "<memory unit='KiB'>lots</memory>"), false)));
    a.add(Arguments.of("domain without a name", doc("cp1", null, "7", vda, domain.replaceFirst("    <name>test</name>\n", ""), false)));
    a.add(Arguments.of("malformed uuid", doc("cp1", null, "7", vda, domain.replaceFirst("<uuid>[^<]*</uuid>", "<uuid>not-a-uuid</uuid>"), false)));
    a.add(Arguments.of("disk by path tracked", doc("cp1", null, "7", "    <disk name='/guest/diskimage1' bitmap='p'/>\n", "", true)));
    a.add(Arguments.of("size not a number", doc("cp1", null, "7", "    <disk name='vda' bitmap='b' size='big'/>\n", "", true)));
    a.add(Arguments.of("non-ASCII description", doc("cp1", null, "7", vda, "  <description>Sauvegarde \u00e9t\u00e9 \u2603</description>\n", true)));
    a.add(Arguments.of("name with dots and dashes", doc("a.b-c_d.", null, "7", vda, "", true)));
    a.add(Arguments.of("plus sign on a number", doc("cp1", null, "+5", vda, "", true)));
    a.add(Arguments.of("XML declaration", "<?xml version='1.0' encoding='UTF-8'?>\n" + doc("cp1", null, "7", vda, "", true)));
    a.add(Arguments.of("comments and CDATA", doc("cp1", null, "7", vda, "  <!-- nightly -->\n  <description><![CDATA[a <b> & c]]></description>\n", true)));
    a.add(Arguments.of("double-quoted attributes", doc("cp1", null, "7", "    <disk name=\"vda\" checkpoint=\"bitmap\" bitmap=\"q\"/>\n", "", true)));
    return a.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void acceptsAndFormatsExactlyAsLibvirt(String label, String input) throws Exception {
    Path file = dir.resolve(label.replaceAll("[^a-z0-9]", "_") + ".xml");
    Files.writeString(file, input);
    // a checkpoint 'base' exists first, so inputs can name it as parent
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create-as test base",
        "checkpoint-create test " + file + " --redefine"));
    boolean libvirtAccepts = !r.get(1).failed();
    Checkpoint parsed = null;
    String ours = null;
    try {
      parsed = CheckpointXml.parse(input.getBytes(StandardCharsets.UTF_8), file.toString(), Set.of());
    } catch (CheckpointXmlException e) {
      ours = e.getMessage();
    }
    assertEquals(libvirtAccepts, parsed != null,
        label + ": virsh said '" + r.get(1).output() + "', Tidemark said " + (ours == null ? "ok" : "'" + ours + "'"));
    if (parsed != null) {
      String name = parsed.name();
      String dumped = Virsh.run(dir, List.of("checkpoint-create-as test base",
          "checkpoint-create test " + file + " --redefine", "checkpoint-dumpxml test " + name)).get(2).output();
      assertEquals(dumped + "\n", CheckpointXml.format(parsed), label);
      if (parsed.creationTime() != 0) { // with time 0 libvirt prints none, and a redefine needs one
        assertEquals(CheckpointXml.format(parsed),
          CheckpointXml.format(CheckpointXml.parse(CheckpointXml.format(parsed).getBytes(StandardCharsets.UTF_8), "again", Set.of())),
          label + ": formatting is stable");
      }
    }
  }

  @Test
  void theSampleShippedWithTidemarkRoundTrips() throws Exception {
    for (String name : new String[] {"cp1", "cp2"}) {
      Path p = Path.of("..", "sample", "checkpoints", name + ".xml");
      byte[] bytes = Files.readAllBytes(p);
      Checkpoint c = CheckpointXml.parse(bytes, p.toString(), Set.of());
      assertEquals(new String(bytes, StandardCharsets.UTF_8), CheckpointXml.format(c), "virsh wrote " + p);
      assertEquals("sample", c.domain().orElseThrow().name());
      assertEquals(2, c.domain().orElseThrow().disks().size());
      assertTrue(c.domain().orElseThrow().disk("sda").orElseThrow().empty());
    }
  }

  @Test
  void theDomainGrammarIsLibvirtsWhenItsSchemasAreInstalled() throws Exception {
    assertEquals(Path.of(DomainGrammar.DEFAULT_DIRECTORY), DomainGrammar.host().schemaDirectory().orElseThrow(),
        "libvirt0 installs its schemas; CI installs libvirt0");
    byte[] bogus = doc("cp1", null, "7", "    <disk name='vda'/>\n", domain.replace("    <vcpu", "    <bogus/>\n    <vcpu"), false)
        .getBytes(StandardCharsets.UTF_8);
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class, () -> CheckpointXml.parse(bogus, "b.xml", Set.of()));
    assertTrue(e.getMessage().contains("bogus") && e.getMessage().contains("domain grammar"), e.getMessage());
    // the structural grammar admits any content in the domain; it is the fallback without libvirt
    assertEquals("cp1", CheckpointXml.parse(bogus, "b.xml", Set.of(), DomainGrammar.builtIn()).name());
    String old = System.getProperty(DomainGrammar.DIRECTORY_PROPERTY);
    System.setProperty(DomainGrammar.DIRECTORY_PROPERTY, dir.resolve("nowhere").toString());
    try {
      assertTrue(DomainGrammar.host().schemaDirectory().isEmpty(), "no schemas there: the structural grammar");
    } finally {
      if (old == null) {
        System.clearProperty(DomainGrammar.DIRECTORY_PROPERTY);
      } else {
        System.setProperty(DomainGrammar.DIRECTORY_PROPERTY, old);
      }
    }
    assertThrows(IllegalArgumentException.class, () -> DomainGrammar.directory(dir));
  }

  @Test
  void graphicsPasswordsAppearOnlyWithSecureAsInLibvirt() throws Exception {
    // virsh's own secure dump of a domain with a VNC password is the input
    Path seed = dir.resolve("secure-seed.xml");
    Files.writeString(seed, doc("sec", null, "7", "    <disk name='vda'/>\n",
        domain.replace("    </devices>", "      <graphics type='vnc' port='-1' autoport='yes' passwd='s3cr&amp;t'/>\n    </devices>"), false));
    String secureDump = Virsh.run(dir, List.of("checkpoint-create test " + seed + " --redefine",
        "checkpoint-dumpxml test sec --security-info")).get(1).output() + "\n";
    assertTrue(secureDump.contains("passwd='s3cr&amp;t'"), secureDump);
    Path input = dir.resolve("secure.xml");
    Files.writeString(input, secureDump);
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create test " + input + " --redefine",
        "checkpoint-dumpxml test sec", "checkpoint-dumpxml test sec --security-info"));
    Checkpoint c = CheckpointXml.parse(secureDump.getBytes(StandardCharsets.UTF_8), input.toString(), Set.of());
    assertEquals(r.get(1).output() + "\n", CheckpointXml.format(c));
    assertEquals(r.get(2).output() + "\n", CheckpointXml.format(c, Set.of(CheckpointXml.FormatFlag.SECURE)));
    assertFalse(CheckpointXml.format(c).contains("s3cr"));
  }

  @Test
  void noDomainAndSizeFlagsAsInLibvirt() throws Exception {
    Path input = dir.resolve("flags.xml");
    Files.writeString(input, doc("fl", null, "7", "    <disk name='vda' bitmap='b' size='1048576'/>\n", "", true));
    List<Virsh.Reply> r = Virsh.run(dir, List.of("checkpoint-create test " + input + " --redefine",
        "checkpoint-dumpxml test fl --no-domain", "checkpoint-dumpxml test fl --size"));
    Checkpoint c = CheckpointXml.parse(Files.readAllBytes(input), input.toString(), Set.of());
    assertEquals(r.get(1).output() + "\n", CheckpointXml.format(c, Set.of(CheckpointXml.FormatFlag.NO_DOMAIN)));
    // libvirt does not keep a size from a definition; the test driver measures none
    assertEquals(r.get(2).output() + "\n", CheckpointXml.format(c, Set.of(CheckpointXml.FormatFlag.SIZE)));
    // a measured size is printed after the bitmap, as libvirt's formatter orders attributes
    Checkpoint measured = c.toBuilder().disks(List.of(org.tidemark.model.CheckpointDisk.of("vda",
        org.tidemark.model.CheckpointType.BITMAP, java.util.Optional.of("b"), java.util.OptionalLong.of(4096)))).build();
    assertTrue(CheckpointXml.format(measured, Set.of(CheckpointXml.FormatFlag.SIZE))
        .contains("<disk name='vda' checkpoint='bitmap' bitmap='b' size='4096'/>"));
    assertFalse(CheckpointXml.format(measured).contains("size="));
  }

  @Test
  void redefineNeedsTheDomainUnlessAllowed() throws Exception {
    byte[] noDomain = doc("cp1", null, "5", "    <disk name='vda'/>\n", "", false).getBytes(StandardCharsets.UTF_8);
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class, () -> CheckpointXml.parse(noDomain, "x.xml", Set.of()));
    assertTrue(e.getMessage().contains("<domain>"), e.getMessage());
    Checkpoint c = CheckpointXml.parse(noDomain, "x.xml", Set.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN));
    assertFalse(c.domain().isPresent());
  }

  @Test
  void xxeAndBillionLaughsAreRefusedWithoutReadingAnything() {
    String xxe = "<?xml version='1.0'?>\n<!DOCTYPE domaincheckpoint [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
        + "<domaincheckpoint><name>&x;</name></domaincheckpoint>\n";
    StringBuilder lol = new StringBuilder("<!DOCTYPE domaincheckpoint [<!ENTITY a 'aaaaaaaaaa'>");
    for (int i = 1; i < 10; i++) {
      lol.append("<!ENTITY a").append(i).append(" '").append(("&a" + (i == 1 ? "" : i - 1) + ";").repeat(10)).append("'>");
    }
    lol.append("]>\n<domaincheckpoint><name>&a9;</name></domaincheckpoint>\n");
    for (String bad : new String[] {xxe, lol.toString()}) {
      CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
          () -> CheckpointXml.parse(bad.getBytes(StandardCharsets.UTF_8), "evil.xml", Set.of()));
      assertTrue(e.getMessage().startsWith("evil.xml:"), e.getMessage());
      assertTrue(e.getMessage().contains("not allowed"), e.getMessage());
    }
    String deep = "<domaincheckpoint><name>x</name><creationTime>1</creationTime>" + "<domain type='kvm'><name>d</name>"
        + "<a>".repeat(1000) + "</a>".repeat(1000) + "</domain></domaincheckpoint>";
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(deep.getBytes(StandardCharsets.UTF_8), "deep.xml", Set.of()));
    assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
    byte[] badUtf8 = {'<', 'd', (byte) 0xc3, (byte) 0x28, '>'};
    assertThrows(CheckpointXmlException.class, () -> CheckpointXml.parse(badUtf8, "utf.xml", Set.of()));
    // a huge attribute inside the size bound is read and refused by the grammar; past it, refused unread
    String hugeAttribute = "<domaincheckpoint><name>x</name><creationTime>1</creationTime><disks><disk name='"
        + "v".repeat(8 << 20) + "' checkpoint='maybe'/></disks></domaincheckpoint>";
    e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(hugeAttribute.getBytes(StandardCharsets.UTF_8), "huge.xml", Set.of()));
    assertTrue(e.getMessage().startsWith("huge.xml:1:"), e.getMessage());
    byte[] tooBig = new byte[SafeXml.MAX_BYTES + 1];
    java.util.Arrays.fill(tooBig, (byte) ' ');
    e = assertThrows(CheckpointXmlException.class, () -> CheckpointXml.parse(tooBig, "big.xml", Set.of()));
    assertTrue(e.getMessage().startsWith("big.xml:") && e.getMessage().contains(String.valueOf(SafeXml.MAX_BYTES)),
        e.getMessage());
  }

  @Test
  void errorsNameTheLineAndColumn() {
    String input = doc("cp1", null, " 1 ", "    <disk name='vda'/>\n", "", true);
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> CheckpointXml.parse(input.getBytes(StandardCharsets.UTF_8), "cp1.xml", Set.of()));
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.column() > 0, e.getMessage());
    assertTrue(e.getMessage().startsWith("cp1.xml:3:"), e.getMessage());
  }
}
