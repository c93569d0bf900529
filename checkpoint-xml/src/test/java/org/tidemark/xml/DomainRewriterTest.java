package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.model.Virsh;
import org.tidemark.xml.DomainRewriter.RestoredDisk;
import org.tidemark.xml.DomainRewriter.Rewritten;

/**
 * The restored domain definition: libvirt decides whether it is a valid definition (virsh's test
 * driver defines it and dumps it back), and the dump must name the restored images and none of
 * the original writable disks.
 */
class DomainRewriterTest {
  @TempDir Path dir;

  /** Original writable storage of {@link #WEB}: none may appear in a rewritten definition. */
  static final List<String> ORIGINALS = List.of("/var/lib/libvirt/images/web-vda.qcow2", "/var/lib/libvirt/images/base.qcow2",
      "/dev/vg0/web-data", "storage.example", "web-scratch.raw", "/dev/sdz");

  /** A domain with a disk of every kind a restore meets, two interfaces and SMBIOS data naming its UUID. */
  static final String WEB = """
      <domain type='test'>
        <name>web</name>
        <uuid>0d4c6b8e-3f1a-4e55-9c2b-7a1e2f3d4c5b</uuid>
        <description>a &amp; b &lt;c&gt; "quoted"</description>
        <memory unit='KiB'>1048576</memory>
        <vcpu placement='static'>1</vcpu>
        <sysinfo type='smbios'>
          <system>
            <entry name='manufacturer'>Tidemark</entry>
            <entry name='uuid'>0d4c6b8e-3f1a-4e55-9c2b-7a1e2f3d4c5b</entry>
          </system>
        </sysinfo>
        <os>
          <type arch='x86_64'>hvm</type>
          <boot dev='hd'/>
        </os>
        <devices>
          <disk type='file' device='disk'>
            <driver name='qemu' type='qcow2'/>
            <source file='/var/lib/libvirt/images/web-vda.qcow2'/>
            <backingStore type='file'>
              <format type='qcow2'/>
              <source file='/var/lib/libvirt/images/base.qcow2'/>
              <backingStore/>
            </backingStore>
            <target dev='vda' bus='virtio'/>
          </disk>
          <disk type='block' device='disk'>
            <driver name='qemu' type='raw' cache='none' io='native'/>
            <source dev='/dev/vg0/web-data'/>
            <target dev='vdb' bus='virtio'/>
          </disk>
          <disk type='network' device='disk'>
            <driver name='qemu' type='raw'/>
            <source protocol='nbd' name='export'>
              <host name='storage.example' port='10809'/>
            </source>
            <target dev='vdc' bus='virtio'/>
          </disk>
          <disk type='file' device='disk'>
            <source file='/var/lib/libvirt/images/web-scratch.raw'/>
            <target dev='vdd' bus='virtio'/>
          </disk>
          <disk type='block' device='lun' sgio='filtered'>
            <driver name='qemu' type='raw'/>
            <source dev='/dev/sdz'/>
            <target dev='sdb' bus='scsi'/>
          </disk>
          <disk type='file' device='disk'>
            <driver name='qemu' type='raw'/>
            <source file='/srv/images/tools.img'/>
            <target dev='vde' bus='virtio'/>
            <readonly/>
          </disk>
          <disk type='file' device='cdrom'>
            <driver name='qemu' type='raw'/>
            <source file='/srv/iso/install.iso'/>
            <target dev='sda' bus='sata'/>
            <readonly/>
          </disk>
          <disk type='file' device='cdrom'>
            <target dev='sdc' bus='sata'/>
            <readonly/>
          </disk>
          <interface type='network'>
            <mac address='52:54:00:12:34:56'/>
            <source network='default'/>
          </interface>
          <interface type='user'>
            <mac address='52:54:00:ab:cd:ef'/>
          </interface>
        </devices>
      </domain>
      """;

  private RestoredDisk disk(String target, String format) {
    return new RestoredDisk(target, dir.resolve("restore").resolve(target + "." + format).toAbsolutePath(), format);
  }

  private static Rewritten rewrite(String xml, List<RestoredDisk> disks) throws CheckpointXmlException {
    return DomainRewriter.rewrite(xml.getBytes(StandardCharsets.UTF_8), "in.xml", disks).orElseThrow();
  }

  /** Defines {@code xml} on virsh's test driver and returns its dump; fails when libvirt refuses it. */
  private String defineAndDump(String xml, String name) throws Exception {
    Path file = Files.writeString(Files.createTempFile(dir, "def", ".xml"), xml);
    List<Virsh.Reply> r = Virsh.run(dir, List.of("define " + file, "dumpxml " + name));
    assertFalse(r.get(0).failed(), "libvirt refused the rewritten definition: " + r.get(0).output() + "\n" + xml);
    assertFalse(r.get(1).failed(), r.get(1).output());
    return r.get(1).output();
  }

  /** The {@code <disk>} elements of a dump, by target device. */
  private static java.util.Map<String, String> disks(String dump) {
    java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
    Matcher m = Pattern.compile("(?s)<disk .*?</disk>").matcher(dump);
    while (m.find()) {
      Matcher t = Pattern.compile("<target dev='([^']+)'").matcher(m.group());
      assertTrue(t.find(), m.group());
      out.put(t.group(1), m.group());
    }
    return out;
  }

  private static void assertNoOriginal(String xml) {
    for (String original : ORIGINALS) {
      assertFalse(xml.contains(original), "the definition still names " + original + ":\n" + xml);
    }
  }

  @Test
  void everyKindOfRestoredDiskPointsAtItsImageAsLibvirtReadsIt() throws Exception {
    List<RestoredDisk> restored = List.of(disk("vda", "qcow2"), disk("vdb", "raw"), disk("vdc", "raw"), disk("vdd", "qcow2"),
        disk("sdb", "raw"));
    Rewritten r = rewrite(WEB, restored);
    assertEquals(List.of(), r.removedDisks());
    assertEquals(List.of(), r.unmatchedDisks());
    assertEquals("web", r.name());
    String dump = defineAndDump(r.xml(), "web");
    java.util.Map<String, String> disks = disks(dump);
    assertEquals(Set.of("vda", "vdb", "vdc", "vdd", "sdb", "vde", "sda", "sdc"), disks.keySet(), dump);
    for (RestoredDisk d : restored) {
      String x = disks.get(d.target());
      assertTrue(x.startsWith("<disk type='file' device='disk'>"), x);
      assertTrue(x.contains("<source file='" + d.image() + "'/>"), x);
      assertTrue(x.contains("type='" + d.format() + "'"), x);
      assertFalse(x.contains("<backingStore type"), x);
      assertFalse(x.contains("sgio"), x);
    }
    assertTrue(disks.get("vdb").contains("cache='none' io='native'"), "other driver attributes kept: " + disks.get("vdb"));
    assertTrue(disks.get("vde").contains("<source file='/srv/images/tools.img'/>"), "a read-only disk is kept");
    assertTrue(disks.get("sda").contains("<source file='/srv/iso/install.iso'/>"), "a CD-ROM is kept");
    assertNoOriginal(dump);
    assertNoOriginal(r.xml());
    assertTrue(dump.contains("<uuid>0d4c6b8e-3f1a-4e55-9c2b-7a1e2f3d4c5b</uuid>"), "no new name: the identity is kept");
    assertTrue(dump.contains("52:54:00:12:34:56"), dump);
  }

  @Test
  void aSubsetRestoreRemovesTheWritableDisksItDidNotRestore() throws Exception {
    Rewritten r = rewrite(WEB, List.of(disk("vdb", "raw"), disk("vdx", "raw")));
    assertEquals(List.of("vda", "vdc", "vdd", "sdb"), r.removedDisks());
    assertEquals(List.of("vdx"), r.unmatchedDisks());
    String dump = defineAndDump(r.xml(), "web");
    assertEquals(Set.of("vdb", "vde", "sda", "sdc"), disks(dump).keySet(), dump);
    assertNoOriginal(dump);
    assertFalse(r.xml().contains("\n\n"), "a removed disk leaves no blank line:\n" + r.xml());
  }

  @Test
  void nothingRestoredLeavesOnlyWhatAGuestCannotWrite() throws Exception {
    Rewritten r = rewrite(WEB, List.of());
    String dump = defineAndDump(r.xml(), "web");
    assertEquals(Set.of("vde", "sda", "sdc"), disks(dump).keySet(), dump);
    assertNoOriginal(dump);
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 42, 2024})
  void aNewNameGetsANewUuidAndNewMacsThatLibvirtAcceptsBesideTheOriginal(long seed) throws Exception {
    Rewritten r = DomainRewriter.rewrite(WEB.getBytes(StandardCharsets.UTF_8), "in.xml", List.of(disk("vda", "raw")),
        Optional.of("web-restored"), new Random(seed)).orElseThrow();
    assertEquals("web-restored", r.name());
    Path original = Files.writeString(dir.resolve("orig.xml"), WEB);
    Path renamed = Files.writeString(dir.resolve("new.xml"), r.xml());
    // both defined in one driver: libvirt refuses a second domain with the UUID of another
    List<Virsh.Reply> v = Virsh.run(dir, List.of("define " + original, "define " + renamed, "dumpxml web-restored",
        "list --all --name"));
    assertFalse(v.get(0).failed(), v.get(0).output());
    assertFalse(v.get(1).failed(), "libvirt refused the renamed definition: " + v.get(1).output() + "\n" + r.xml());
    String dump = v.get(2).output();
    assertTrue(v.get(3).output().contains("web-restored") && v.get(3).output().contains("web"), v.get(3).output());
    assertTrue(dump.contains("<name>web-restored</name>"), dump);
    Matcher u = Pattern.compile("<uuid>([^<]+)</uuid>").matcher(dump);
    assertTrue(u.find(), dump);
    UUID uuid = UUID.fromString(u.group(1));
    assertNotEquals(UUID.fromString("0d4c6b8e-3f1a-4e55-9c2b-7a1e2f3d4c5b"), uuid);
    assertEquals(4, uuid.version());
    assertEquals(2, uuid.variant());
    assertTrue(dump.contains("<entry name='uuid'>" + uuid + "</entry>"), "the SMBIOS UUID follows: " + dump);
    Matcher m = Pattern.compile("<mac address='([^']+)'/>").matcher(dump);
    List<String> macs = new ArrayList<>();
    while (m.find()) {
      macs.add(m.group(1));
    }
    assertEquals(2, macs.size(), dump);
    for (String mac : macs) {
      assertTrue(mac.matches("52:54:00(:[0-9a-f]{2}){3}"), mac);
      int first = Integer.parseInt(mac.substring(0, 2), 16);
      assertEquals(2, first & 3, "locally administered and unicast: " + mac);
      assertFalse(List.of("52:54:00:12:34:56", "52:54:00:ab:cd:ef").contains(mac), mac);
    }
    assertEquals(2, new HashSet<>(macs).size(), "two interfaces, two addresses: " + macs);
    assertNoOriginal(r.xml().replace("/srv", "")); // vda restored, the rest removed
  }

  @Test
  void aDomainWithoutInterfacesOrUuidIsRenamedAndGetsAUuid() throws Exception {
    String plain = "<domain type='test'>\n  <name>bare</name>\n  <memory>65536</memory>\n  <os>\n    <type>hvm</type>\n"
        + "  </os>\n  <devices>\n    <disk type='file' device='disk'>\n      <source file='/var/lib/libvirt/images/bare.img'/>\n"
        + "      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n</domain>\n";
    Rewritten r = DomainRewriter.rewrite(plain.getBytes(StandardCharsets.UTF_8), "bare.xml", List.of(disk("vda", "qcow2")),
        Optional.of("bare2"), new Random(7)).orElseThrow();
    assertTrue(r.xml().startsWith("<domain type='test'>\n  <name>bare2</name>\n  <uuid>"), r.xml());
    assertTrue(r.xml().contains("      <driver type='qcow2'/>\n      <source file='" + disk("vda", "qcow2").image() + "'/>\n"),
        "a driver is added, on its own line:\n" + r.xml());
    String dump = defineAndDump(r.xml(), "bare2");
    assertTrue(dump.contains("<source file='" + disk("vda", "qcow2").image() + "'/>"), dump);
    assertTrue(dump.contains("type='qcow2'"), dump);
    assertFalse(dump.contains("bare.img"), dump);
  }

  /** The sample shipped in sample/: its embedded domain, de-indented, unchanged but for the restored disk. */
  @Test
  void theSampleCheckpointsDomainIsKeptLineForLineButTheRestoredDisk() throws Exception {
    byte[] cp1 = Files.readAllBytes(Path.of("..", "sample", "checkpoints", "cp1.xml"));
    RestoredDisk vda = disk("vda", "raw");
    Rewritten r = DomainRewriter.rewrite(cp1, "cp1.xml", List.of(vda)).orElseThrow();
    String text = new String(cp1, StandardCharsets.UTF_8);
    String embedded = text.substring(text.indexOf("  <domain"), text.indexOf("</domaincheckpoint>"));
    String expected = embedded.replaceAll("(?m)^  ", "")
        .replace("<driver name='qemu' type='qcow2'/>", "<driver name='qemu' type='raw'/>")
        .replace("<source file='/var/lib/libvirt/images/sample-vda.qcow2'/>", "<source file='" + vda.image() + "'/>");
    assertEquals(expected, r.xml());
    String dump = defineAndDump(r.xml(), "sample");
    assertTrue(dump.contains("<source file='" + vda.image() + "'/>"), dump);
    assertFalse(dump.contains("sample-vda.qcow2"), dump);
  }

  @Test
  void aCheckpointWithoutDomainHasNoDefinition() throws Exception {
    String doc = "<domaincheckpoint>\n  <name>cp1</name>\n  <creationTime>5</creationTime>\n</domaincheckpoint>\n";
    assertEquals(Optional.empty(), DomainRewriter.rewrite(doc.getBytes(StandardCharsets.UTF_8), "cp.xml", List.of(disk("vda", "raw"))));
  }

  @Test
  void namespacesAndEscapesSurvive() throws Exception {
    String doc = "<domaincheckpoint xmlns:tm='urn:tidemark:test'>\n  <name>cp1</name>\n"
        + "  <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n    <name>ns</name>\n"
        + "    <metadata>\n      <tm:note tm:by='o&apos;brien'>a&amp;b</tm:note>\n    </metadata>\n"
        + "    <devices>\n      <disk type='file' device='disk'>\n        <source file='/img/ns.qcow2'/>\n"
        + "        <target dev='vda'/>\n      </disk>\n    </devices>\n"
        + "    <qemu:commandline>\n      <qemu:arg value='-S'/>\n    </qemu:commandline>\n  </domain>\n</domaincheckpoint>\n";
    Path image = dir.resolve("it's here").resolve("vda.raw").toAbsolutePath();
    Rewritten r = DomainRewriter.rewrite(doc.getBytes(StandardCharsets.UTF_8), "cp.xml",
        List.of(new RestoredDisk("vda", image, "raw"))).orElseThrow();
    assertTrue(r.xml().startsWith("<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
        + " xmlns:tm='urn:tidemark:test'>\n  <name>ns</name>\n"), r.xml());
    assertTrue(r.xml().contains("<tm:note tm:by='o&apos;brien'>a&amp;b</tm:note>"), r.xml());
    assertTrue(r.xml().contains("  <qemu:commandline>\n    <qemu:arg value='-S'/>\n  </qemu:commandline>\n</domain>\n"), r.xml());
    assertTrue(r.xml().contains("<driver name='qemu' type='raw'/>"), "a QEMU domain's added driver is named qemu: " + r.xml());
    // read back by the safe parser against libvirt's domain grammar, the image's path is the one given
    var parsed = DomainXml.parse(r.xml().getBytes(StandardCharsets.UTF_8), "out.xml", DomainGrammar.host());
    assertEquals(Optional.of(image.toString()), parsed.disks().get(0).source());
    assertEquals("ns", parsed.name());
  }

  @Test
  void aPathWithAnApostropheIsWhatLibvirtReads() throws Exception {
    Path image = dir.resolve("o'brien & co").resolve("vda.raw").toAbsolutePath();
    Rewritten r = rewrite(WEB, List.of(new RestoredDisk("vda", image, "raw")));
    String dump = defineAndDump(r.xml(), "web");
    assertTrue(dump.contains("<source file='" + image.toString().replace("&", "&amp;").replace("'", "&apos;") + "'/>"), dump);
  }

  @Test
  void entitiesAndDtdsAreStillRefused() {
    String withEntity = "<!DOCTYPE domain [<!ENTITY p '/etc/shadow'>]>\n<domain type='test'><name>x</name></domain>";
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class, () -> rewrite(withEntity, List.of()));
    assertTrue(e.getMessage().contains("entity declarations are not allowed"), e.getMessage());
    String external = "<!DOCTYPE domain SYSTEM 'file:///etc/passwd'>\n<domain type='test'><name>x</name></domain>";
    e = assertThrows(CheckpointXmlException.class, () -> rewrite(external, List.of()));
    assertTrue(e.getMessage().contains("external DTDs are not allowed"), e.getMessage());
    e = assertThrows(CheckpointXmlException.class, () -> DomainRewriter.rewrite(
        HostileXmlTest.entityBomb().getBytes(StandardCharsets.UTF_16), "bomb.xml", List.of()));
    assertTrue(e.getMessage().startsWith("bomb.xml:1:1: the document is UTF-16"), e.getMessage());
    e = assertThrows(CheckpointXmlException.class, () -> rewrite("<domain type='test'><name>x</name>", List.of()));
    assertTrue(e.getMessage().startsWith("in.xml:"), e.getMessage());
    e = assertThrows(CheckpointXmlException.class, () -> rewrite("<domain><name>x</name></domain>", List.of()));
    assertTrue(e.getMessage().contains("needs a type attribute and a <name>"), e.getMessage());
  }

  @Test
  void badNamesAndPathsAreRefusedBeforeReading() {
    for (String bad : List.of("", " ", "a/b", "two\nlines")) {
      assertThrows(IllegalArgumentException.class, () -> DomainRewriter.rewrite(WEB.getBytes(StandardCharsets.UTF_8), "in.xml",
          List.of(), Optional.of(bad), new Random(1)), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> new RestoredDisk("vda", Path.of("relative.raw"), "raw"));
    assertThrows(IllegalArgumentException.class, () -> new RestoredDisk("vda", Path.of("/a.vmdk"), "vmdk"));
  }

  @Test
  void theOriginalStoragesCredentialsAndEncryptionGo() throws Exception {
    String iscsi = "<domain type='test'>\n  <name>sec</name>\n  <memory>65536</memory>\n  <os>\n    <type>hvm</type>\n  </os>\n"
        + "  <devices>\n    <disk type='network' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
        + "      <auth username='admin'>\n        <secret type='iscsi' usage='tgt'/>\n      </auth>\n"
        + "      <source protocol='iscsi' name='iqn.2024-01.example:storage/1'>\n        <host name='storage.example' port='3260'/>\n"
        + "      </source>\n      <encryption format='luks'>\n        <secret type='passphrase' usage='luks-vda'/>\n      </encryption>\n"
        + "      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n</domain>\n";
    Rewritten r = rewrite(iscsi, List.of(disk("vda", "raw")));
    assertFalse(r.xml().contains("<auth") || r.xml().contains("<encryption") || r.xml().contains("storage.example"), r.xml());
    String dump = defineAndDump(r.xml(), "sec");
    assertTrue(dump.contains("<disk type='file' device='disk'>"), dump);
    assertTrue(dump.contains("<source file='" + disk("vda", "raw").image() + "'/>"), dump);
  }

  @Test
  void aRenamedUefiDomainGetsItsOwnVariables() throws Exception {
    String uefi = WEB.replace("<boot dev='hd'/>", "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>\n"
        + "    <nvram template='/usr/share/OVMF/OVMF_VARS.fd'>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram>");
    Rewritten same = rewrite(uefi, List.of());
    assertTrue(same.xml().contains("web_VARS.fd"), "the same domain keeps its variables");
    Rewritten r = DomainRewriter.rewrite(uefi.getBytes(StandardCharsets.UTF_8), "in.xml", List.of(), Optional.of("web2"),
        new Random(3)).orElseThrow();
    assertFalse(r.xml().contains("web_VARS.fd"), r.xml());
    assertTrue(r.xml().contains("<nvram template='/usr/share/OVMF/OVMF_VARS.fd'/>"), r.xml());
  }
}
