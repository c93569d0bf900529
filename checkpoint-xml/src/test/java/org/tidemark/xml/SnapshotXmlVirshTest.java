package org.tidemark.xml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.ValidationDriver;
import java.io.ByteArrayInputStream;
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
import org.tidemark.model.Snapshot;
import org.tidemark.model.Virsh;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXParseException;

/**
 * libvirt decides, twice. Each input is redefined on virsh's test driver ({@code snapshot-create
 * --redefine}) and dumped back with and without {@code --security-info}: Tidemark must accept what
 * virsh accepts and print byte for byte what virsh prints. And each input is validated by Jing
 * with libvirt's own {@code domainsnapshot.rng} (read from the host at test time only): Tidemark's
 * grammar, with libvirt's domain grammars for the embedded domains, must agree on every input, and
 * a parse with VALIDATE accepts exactly what both libvirt's parser and libvirt's grammar accept.
 */
class SnapshotXmlVirshTest {
  static final Path LIBVIRT_SNAPSHOT_RNG = Path.of(DomainGrammar.DEFAULT_DIRECTORY, "domainsnapshot.rng");
  static final String T2_UUID = "11111111-2222-3333-4444-555555555555";
  static final String T3_UUID = "11111111-2222-3333-4444-666666666666";
  static final String T3_DISKS = """
          <disk type='file' device='disk' snapshot='no'>
            <source file='/guest/vda.img'/>
            <target dev='vda' bus='virtio'/>
          </disk>
          <disk type='file' device='disk'>
            <source file='/guest/vdb.img'/>
            <target dev='vdb' bus='virtio'/>
          </disk>
          <disk type='file' device='cdrom'>
            <target dev='hdc' bus='ide'/>
            <readonly/>
          </disk>
          <disk type='block' device='disk' snapshot='manual'>
            <source dev='/dev/sdq'/>
            <target dev='vdd' bus='virtio'/>
          </disk>
      """;

  @TempDir static Path dir;
  /** The test driver's domain as libvirt formats it inside a snapshot (indented two spaces). */
  static String domain;
  /** The same domain with a VNC password, as libvirt prints it with --security-info. */
  static String secureDomain;
  /** A second domain, t2, whose disk is a regular file here (libvirt then generates external names). */
  static String t2Definition;
  static String t2Domain;
  static Path t2Image;
  /** A third domain, t3: disks with their own snapshot modes, an empty CD-ROM and a block device. */
  static String t3Definition;
  static String t3Domain;
  static ValidationDriver libvirtGrammar;

  /** How a case's input relates to what Tidemark does not do, said explicitly. */
  enum Kind {
    /** Tidemark and libvirt must agree, with and without validation. */
    SAME,
    /**
     * Something in the embedded domain that libvirt's domain parser refuses (Tidemark keeps the
     * domain's text and does not reimplement that parser): without VALIDATE Tidemark accepts it;
     * with VALIDATE libvirt's domain grammar refuses it.
     */
    DOMAIN_PARSER,
    /**
     * Something in the embedded domain that libvirt's domain parser drops (libvirt re-formats the
     * domain; Tidemark keeps its text as read): without VALIDATE Tidemark accepts it and keeps it;
     * libvirt's domain grammar refuses it, and so does a parse with VALIDATE.
     */
    DOMAIN_TEXT,
    /**
     * A disk source Tidemark does not support: refused, with a message saying so where libvirt
     * accepts it; the grammars agree all the same.
     */
    UNSUPPORTED
  }

  @BeforeAll
  static void fromLibvirt() throws Exception {
    assertTrue(Files.isRegularFile(LIBVIRT_SNAPSHOT_RNG), "libvirt0 installs " + LIBVIRT_SNAPSHOT_RNG + "; CI installs libvirt0");
    PropertyMapBuilder p = new PropertyMapBuilder();
    p.put(ValidateProperty.ERROR_HANDLER, new ErrorHandler() {
      @Override
      public void warning(SAXParseException e) {}

      @Override
      public void error(SAXParseException e) {}

      @Override
      public void fatalError(SAXParseException e) {}
    });
    libvirtGrammar = new ValidationDriver(p.toPropertyMap());
    assertTrue(libvirtGrammar.loadSchema(ValidationDriver.fileInputSource(LIBVIRT_SNAPSHOT_RNG.toFile())));

    t2Image = dir.resolve("t2-disk.img");
    Files.write(t2Image, new byte[4096]);
    List<Virsh.Reply> r = Virsh.run(dir, List.of("snapshot-create-as test base", "snapshot-dumpxml test base",
        "dumpxml test --inactive"));
    String doc = r.get(1).output();
    domain = doc.substring(doc.indexOf("  <domain"), doc.indexOf("</domainsnapshot>"));
    t2Definition = r.get(2).output().replace("<name>test</name>", "<name>t2</name>")
        .replaceFirst("<uuid>[^<]*</uuid>", "<uuid>" + T2_UUID + "</uuid>")
        .replace("/guest/diskimage1", t2Image.toString());
    Path t2 = dir.resolve("t2.xml");
    Files.writeString(t2, t2Definition);
    r = Virsh.run(dir, List.of("define " + t2, "snapshot-create-as t2 first", "snapshot-dumpxml t2 first"));
    doc = r.get(2).output();
    t2Domain = doc.substring(doc.indexOf("  <domain"), doc.indexOf("</domainsnapshot>"));
    assertTrue(t2Domain.contains(t2Image.toString()), doc);

    t3Definition = t2Definition.replace("<name>t2</name>", "<name>t3</name>").replace(T2_UUID, T3_UUID)
        .replaceFirst("(?s)    <disk .*</disk>\n", T3_DISKS);
    Path t3 = dir.resolve("t3.xml");
    Files.writeString(t3, t3Definition);
    r = Virsh.run(dir, List.of("define " + t3, "snapshot-create-as t3 first", "snapshot-dumpxml t3 first"));
    doc = r.get(2).output();
    t3Domain = doc.substring(doc.indexOf("  <domain"), doc.indexOf("</domainsnapshot>"));
    assertTrue(t3Domain.contains("vdd"), doc);

    Path seed = dir.resolve("secure-seed.xml");
    Files.writeString(seed, doc("sec", "running", "7", "", domain.replace("    </devices>",
        "      <graphics type='vnc' port='-1' autoport='yes' passwd='s3cr&amp;t'/>\n    </devices>")));
    String secureDump = Virsh.run(dir, List.of("snapshot-create test " + seed + " --redefine",
        "snapshot-dumpxml test sec --security-info")).get(1).output();
    secureDomain = secureDump.substring(secureDump.indexOf("  <domain"), secureDump.indexOf("</domainsnapshot>"));
    assertTrue(secureDomain.contains("passwd='s3cr&amp;t'"), secureDump);
  }

  /** A document: name, state, creation time (null: left out), children between them and the domain, the domain. */
  static String doc(String name, String state, String created, String middle, String dom) {
    return "<domainsnapshot>\n"
        + (name == null ? "" : "  <name>" + name + "</name>\n")
        + (state == null ? "" : "  <state>" + state + "</state>\n")
        + (created == null ? "" : "  <creationTime>" + created + "</creationTime>\n")
        + middle
        + dom
        + "</domainsnapshot>\n";
  }

  static String run(String middle) {
    return doc("s1", "running", "1700000000", middle, domain);
  }

  static String disks(String inside) {
    return "  <disks>\n" + inside + "  </disks>\n";
  }

  static Arguments same(String label, String input) {
    return Arguments.of(label, input, "test", Kind.SAME);
  }

  static Stream<Arguments> cases() {
    List<Arguments> a = new ArrayList<>();
    a.add(same("plain running", run("")));
    for (String state : SnapshotXml.STATES) {
      a.add(same("state " + state, doc("s1", state, "5", "", domain)));
    }
    a.add(same("state nostate", doc("s1", "nostate", "5", "", domain)));
    a.add(same("state with a blank", doc("s1", " running", "5", "", domain)));
    a.add(same("no state", doc("s1", null, "5", "", domain)));
    a.add(same("empty state", doc("s1", "", "5", "", domain)));
    a.add(same("creationTime leading blank", doc("s1", "running", " 1", "", domain)));
    a.add(same("creationTime trailing blank", doc("s1", "running", "1 ", "", domain)));
    a.add(same("creationTime negative", doc("s1", "running", "-1", "", domain)));
    a.add(same("creationTime plus sign", doc("s1", "running", "+5", "", domain)));
    a.add(same("creationTime zero", doc("s1", "running", "0", "", domain)));
    a.add(same("creationTime leading zeros", doc("s1", "running", "000100", "", domain)));
    a.add(same("creationTime past 63 bits", doc("s1", "running", "9223372036854775808", "", domain)));
    a.add(same("creationTime not a number", doc("s1", "running", "soon", "", domain)));
    a.add(same("no creationTime", doc("s1", "running", null, "", domain)));
    a.add(same("no name", doc(null, "running", "5", "", domain)));
    a.add(same("empty name", doc("", "running", "5", "", domain)));
    a.add(same("name with blanks and entities", doc("a b &amp; c", "running", "5", "", domain)));
    a.add(same("description escaped", run("  <description>a &lt;b&gt; &amp; 'c' \"d\"</description>\n")));
    a.add(same("empty description", run("  <description></description>\n")));
    a.add(same("description with newlines and CDATA", run("  <description>line 1\n<![CDATA[<x> & y]]></description>\n")));
    a.add(same("tab and carriage return in the description", run("  <description>a\tb&#13;c&#x9;d&#10;e</description>\n")));
    a.add(Arguments.of("t2: newline in an attribute", doc("s1", "paused", "5", "  <memory file='/m/a&#10;b&#9;c'/>\n", T2), "t2", Kind.SAME));
    a.add(Arguments.of("t2: memory file alone", doc("s1", "paused", "5", "  <memory file='/m/mem'/>\n", T2), "t2", Kind.SAME));
    a.add(Arguments.of("t2: memory external with file", doc("s1", "running", "5",
        "  <memory snapshot='external' file='/var/lib/mem &amp; more'/>\n", T2), "t2", Kind.SAME));
    a.add(same("non-ASCII description", run("  <description>Sauvegarde \u00e9t\u00e9 \u2603</description>\n")));
    a.add(same("with a parent", run("  <parent>\n    <name>base</name>\n  </parent>\n")));
    a.add(same("memory no on running", run("  <memory snapshot='no'/>\n")));
    a.add(same("memory internal", run("  <memory snapshot='internal'/>\n")));
    a.add(same("memory internal on shutoff", doc("s1", "shutoff", "5", "  <memory snapshot='internal'/>\n", domain)));
    a.add(same("memory external with file", run("  <memory snapshot='external' file='/var/lib/mem &amp; more'/>\n")));
    a.add(same("memory file alone", doc("s1", "paused", "5", "  <memory file='/m/mem'/>\n", domain)));
    a.add(same("memory file relative", run("  <memory file='m/mem'/>\n")));
    a.add(same("memory file empty", run("  <memory file=''/>\n")));
    a.add(same("memory external without file", run("  <memory snapshot='external'/>\n")));
    a.add(same("memory manual", run("  <memory snapshot='manual'/>\n")));
    a.add(same("memory default", run("  <memory snapshot='default'/>\n")));
    a.add(same("memory internal with file", run("  <memory snapshot='internal' file='/m/mem'/>\n")));
    a.add(same("disk internal", run(disks("    <disk name='vda' snapshot='internal'/>\n"))));
    a.add(same("disk default", run(disks("    <disk name='vda'/>\n"))));
    a.add(same("disk no on an internal snapshot", run(disks("    <disk name='vda' snapshot='no'/>\n"))));
    a.add(same("disk manual", run(disks("    <disk name='vda' snapshot='manual'/>\n"))));
    a.add(same("disk no with external memory", doc("s1", "paused", "5",
        "  <memory file='/m/mem'/>\n" + disks("    <disk name='vda' snapshot='no'/>\n"), domain)));
    a.add(same("disk external with file and format", run(disks(
        "    <disk name='vda' snapshot='external'>\n      <driver type='qcow2'/>\n      <source file='/x/overlay.qcow2'/>\n    </disk>\n"))));
    a.add(same("disk file implies external", doc("s1", "disk-snapshot", "5",
        disks("    <disk name='vda'>\n      <source file='/x/o&amp;v.qcow2'/>\n    </disk>\n"), domain)));
    a.add(same("disk by source path", doc("s1", "disk-snapshot", "5",
        disks("    <disk name='/guest/diskimage1'>\n      <source file='/x/y'/>\n    </disk>\n"), domain)));
    a.add(same("disk block", run(disks(
        "    <disk name='vda' type='block'>\n      <driver type='qcow2'/>\n      <source dev='/dev/sdz'/>\n    </disk>\n"))));
    a.add(same("disk raw format", run(disks(
        "    <disk name='vda'>\n      <driver type='raw'/>\n      <source file='/x/y.raw'/>\n    </disk>\n"))));
    a.add(same("disk unknown format", run(disks("    <disk name='vda'>\n      <driver type='luks2'/>\n      <source file='/x/y'/>\n    </disk>\n"))));
    List<String> formats = new ArrayList<>(SnapshotXml.FORMATS);
    formats.add("luks");
    formats.remove("raw"); // a case of its own above
    formats.remove("qcow2");
    for (String format : formats) {
      a.add(same("disk format " + format, run(disks("    <disk name='vda'>\n      <driver type='" + format + "'/>\n"
          + "      <source file='/x/y'/>\n    </disk>\n"))));
    }
    a.add(same("disk format none", run(disks("    <disk name='vda'>\n      <driver type='none'/>\n      <source file='/x/y'/>\n    </disk>\n"))));
    a.add(same("disk relative file", run(disks("    <disk name='vda'>\n      <source file='x/y'/>\n    </disk>\n"))));
    a.add(same("disk empty file", doc("s1", "shutoff", "5", disks("    <disk name='vda'>\n      <source file=''/>\n    </disk>\n"), domain)));
    a.add(same("disk internal with a file", run(disks("    <disk name='vda' snapshot='internal'>\n      <source file='/a'/>\n    </disk>\n"))));
    a.add(same("disk unknown", run(disks("    <disk name='vdz'/>\n"))));
    a.add(same("disk twice", run(disks("    <disk name='vda'/>\n    <disk name='vda'/>\n"))));
    a.add(same("disk without name", run(disks("    <disk snapshot='internal'/>\n"))));
    a.add(same("disk type dir", run(disks("    <disk name='vda' type='dir'/>\n"))));
    a.add(same("disk type none", run(disks("    <disk name='vda' type='none'/>\n"))));
    a.add(same("disk snapshot default", run(disks("    <disk name='vda' snapshot='default'/>\n"))));
    a.add(same("disk under another name", run(disks("    <drive name='vda'/>\n"))));
    a.add(same("empty disks", run("  <disks/>\n")));
    a.add(Arguments.of("t2: external disk without a file gets a generated name",
        doc("s1", "disk-snapshot", "5", disks("    <disk name='vda' snapshot='external'/>\n"), T2), "t2", Kind.SAME));
    a.add(Arguments.of("t2: format only gets a generated name",
        doc("s1", "disk-snapshot", "5", disks("    <disk name='vda'>\n      <driver type='qcow2'/>\n    </disk>\n"), T2), "t2", Kind.SAME));
    a.add(Arguments.of("t2: block without a device", doc("s1", "disk-snapshot", "5",
        disks("    <disk name='vda' snapshot='external' type='block'/>\n"), T2), "t2", Kind.SAME));
    a.add(Arguments.of("t2: shutoff", doc("s1", "shutoff", "5", "", T2), "t2", Kind.SAME));
    a.add(Arguments.of("t3: defaults from the domain's disks", doc("s1", "shutoff", "5", "", T3), "t3", Kind.SAME));
    a.add(Arguments.of("t3: one disk listed", doc("s1", "shutoff", "5", disks("    <disk name='vdb'/>\n"), T3), "t3", Kind.SAME));
    a.add(Arguments.of("t3: a disk by path", doc("s1", "shutoff", "5", disks("    <disk name='/guest/vdb.img' snapshot='internal'/>\n"), T3),
        "t3", Kind.SAME));
    a.add(Arguments.of("t3: the domain says no", doc("s1", "shutoff", "5", disks("    <disk name='vda' snapshot='no'/>\n"), T3), "t3", Kind.SAME));
    a.add(Arguments.of("t3: manual where the domain says manual",
        doc("s1", "shutoff", "5", disks("    <disk name='vdd' snapshot='manual'/>\n"), T3), "t3", Kind.SAME));
    a.add(Arguments.of("t3: external disks", doc("s1", "disk-snapshot", "5", disks("    <disk name='vdb'>\n      <source file='/o/vdb.qcow2'/>\n"
        + "    </disk>\n    <disk name='vdd' type='block'>\n      <source dev='/dev/sdr'/>\n    </disk>\n"), T3), "t3", Kind.SAME));
    a.add(Arguments.of("t3: the empty cdrom listed", doc("s1", "shutoff", "5", disks("    <disk name='hdc' snapshot='internal'/>\n"), T3),
        "t3", Kind.SAME));
    a.add(Arguments.of("t3: too many disks", doc("s1", "shutoff", "5", disks("    <disk name='vda'/>\n".repeat(5)), T3), "t3", Kind.SAME));
    a.add(same("external disk whose source is not a file here", doc("s1", "disk-snapshot", "5",
        disks("    <disk name='vda' snapshot='external'/>\n"), domain)));
    a.add(same("no domain", doc("s1", "running", "5", "", "")));
    a.add(same("old uuid-only domain", doc("s1", "running", "5", "",
        "  <domain>\n    <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>\n  </domain>\n")));
    a.add(same("inactiveDomain", run("") .replace("</domainsnapshot>",
        domain.replace("<domain ", "<inactiveDomain ").replace("</domain>", "</inactiveDomain>") + "</domainsnapshot>")));
    a.add(Arguments.of("unknown element in the inactiveDomain", run("").replace("</domainsnapshot>",
        domain.replace("<domain ", "<inactiveDomain ").replace("</domain>", "</inactiveDomain>").replace("    <vcpu", "    <bogus/>\n    <vcpu")
        + "</domainsnapshot>"), "test", Kind.DOMAIN_TEXT));
    a.add(same("inactiveDomain without type", run("").replace("</domainsnapshot>",
        "  <inactiveDomain>\n    <name>test</name>\n  </inactiveDomain>\n</domainsnapshot>")));
    a.add(same("cookie", run("").replace("</domainsnapshot>", "  <cookie>\n    <cpu mode='custom'/>\n  </cookie>\n</domainsnapshot>")));
    a.add(same("active", run("  <active>1</active>\n")));
    a.add(same("graphics password", doc("s1", "running", "5", "", SECURE)));
    a.add(same("unknown element", run("  <color>red</color>\n")));
    a.add(same("two names", run("  <name>s2</name>\n")));
    a.add(same("parent with two names", run("  <parent>\n    <name>base</name>\n    <name>x</name>\n  </parent>\n")));
    a.add(same("empty parent name", run("  <parent>\n    <name></name>\n  </parent>\n")));
    a.add(same("active 2", run("  <active>2</active>\n")));
    a.add(same("text in the cookie", run("  <cookie>crumbs</cookie>\n")));
    a.add(same("memory no with a file", run("  <memory snapshot='no' file='/m/x'/>\n")));
    a.add(same("memory with a child", run("  <memory snapshot='internal'><file/></memory>\n")));
    a.add(same("disk no with a source", run(disks("    <disk name='vda' snapshot='no'>\n      <source file='/x'/>\n    </disk>\n"))));
    a.add(same("disk type file without source", doc("s1", "shutoff", "5", disks("    <disk name='vda' type='file'/>\n"), domain)));
    a.add(same("disk name not a target", run(disks("    <disk name='hello'/>\n"))));
    a.add(same("disk empty driver and source", doc("s1", "shutoff", "5",
        disks("    <disk name='vda'>\n      <driver/>\n      <source/>\n    </disk>\n"), domain)));
    a.add(same("disk block with a file attribute", run(disks("    <disk name='vda' type='block'>\n      <source file='/x'/>\n    </disk>\n"))));
    a.add(same("disk file with a dev attribute", run(disks("    <disk name='vda'>\n      <source dev='/x'/>\n    </disk>\n"))));
    a.add(same("disk driver after source", run(disks("    <disk name='vda'>\n      <source file='/x/y'/>\n      <driver type='qcow2'/>\n    </disk>\n"))));
    a.add(same("two disks elements", doc("s1", "shutoff", "5", "  <disks/>\n  <disks/>\n", domain)));
    a.add(same("domain with an empty type", doc("s1", "running", "5", "", domain.replace("<domain type='test'>", "<domain type=''>"))));
    a.add(same("children out of order", "<domainsnapshot>\n  <creationTime>9</creationTime>\n" + domain
        + "  <state>running</state>\n  <name>late</name>\n</domainsnapshot>\n"));
    a.add(same("XML declaration and bare doctype", "<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE domainsnapshot>\n" + run("")));
    a.add(same("comments and double quotes", run("  <!-- nightly -->\n  <memory snapshot=\"internal\"/>\n")));
    a.add(same("wrong root", "<domaincheckpoint>\n  <name>s1</name>\n</domaincheckpoint>\n"));
    a.add(same("not well-formed", "<domainsnapshot><name>s1</name>"));
    a.add(Arguments.of("unknown element in the domain", doc("s1", "running", "5", "",
        domain.replace("    <vcpu", "    <bogus/>\n    <vcpu")), "test", Kind.DOMAIN_TEXT));
    a.add(Arguments.of("memory of the domain not a number", doc("s1", "running", "5", "",
        domain.replace("<memory unit='KiB'>8388608</memory>", "<memory unit='KiB'>lots</memory>")), "test", Kind.DOMAIN_PARSER));
    a.add(Arguments.of("network disk", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nbd' name='x'>\n"
        + "        <host name='h'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nbd with tls", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nbd' name='x' tls='yes' tlsHostname='h.example'>\n        <host name='10.0.0.1' port='10809'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nbd over a unix socket", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nbd'>\n        <host transport='unix' socket='/run/nbd.sock'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nbd with a driver", run(disks("    <disk name='vda' type='network'>\n      <driver type='qcow2'/>\n      <source protocol='nbd' name='x'>\n        <host name='h'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nbd without a host", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nbd' name='x'/>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("network without a source", run(disks("    <disk name='vda' type='network'/>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("gluster with two hosts", run(disks("    <disk name='vda' type='network'>\n      <source protocol='gluster' name='vol/img'>\n        <host name='a'/>\n        <host name='::1' transport='rdma'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("rbd with auth and no host", run(disks("    <disk name='vda' type='network'>\n      <source protocol='rbd' name='pool/img'>\n        <auth username='admin'>\n          <secret type='ceph' usage='ceph client'/>\n        </auth>\n        <config file='/etc/ceph/ceph.conf'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("iscsi with an initiator", run(disks("    <disk name='vda' type='network'>\n      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi/1'>\n        <host name='example.com' port='3260'/>\n        <initiator>\n          <iqn name='iqn.2013-07.com.example:client'/>\n        </initiator>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("https with cookies and ssl", run(disks("    <disk name='vda' type='network'>\n      <source protocol='https' name='/img' query='a=b'>\n        <host name='example.com'/>\n        <ssl verify='no'/>\n        <cookies>\n          <cookie name='k'>v</cookie>\n        </cookies>\n        <readahead size='65536'/>\n        <timeout seconds='10'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("ftp with ssl", run(disks("    <disk name='vda' type='network'>\n      <source protocol='ftp' name='/img'>\n        <host name='example.com'/>\n        <ssl verify='no'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nfs without identity", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nfs' name='/img'>\n        <host name='example.com'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("nfs with identity", run(disks("    <disk name='vda' type='network'>\n      <source protocol='nfs' name='/img'>\n        <host name='example.com'/>\n        <identity user='u' group='g'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("unknown protocol", run(disks("    <disk name='vda' type='network'>\n      <source protocol='gopher' name='/img'>\n        <host name='example.com'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("encryption with a secret", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n        <encryption format='luks' engine='qemu'>\n          <secret type='passphrase' uuid='6695eb01-f6a4-8304-79aa-97f2502e193f'/>\n        </encryption>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("encryption with a bad format", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n        <encryption format='rot13'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("encryption in a disk source", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n"
        + "        <encryption format='luks'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("slices in a disk source", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n"
        + "        <slices>\n          <slice type='storage' offset='0' size='512'/>\n        </slices>\n      </source>\n    </disk>\n")),
        "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("metadata cache", run(disks("    <disk name='vda'>\n      <driver type='qcow2'>\n        <metadata_cache>\n"
        + "          <max_size unit='KiB'>1</max_size>\n        </metadata_cache>\n      </driver>\n      <source file='/x/y'/>\n    </disk>\n")),
        "test", Kind.UNSUPPORTED));
    a.add(same("index of a disk source", run(disks("    <disk name='vda'>\n      <source file='/x/y' index='3'/>\n    </disk>\n"))));
    a.add(Arguments.of("seclabel in a disk source", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n"
        + "        <seclabel model='dac' relabel='no'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    a.add(Arguments.of("seclabel relabel yes without a label", run(disks("    <disk name='vda'>\n      <source file='/x/y'>\n"
        + "        <seclabel relabel='yes'/>\n      </source>\n    </disk>\n")), "test", Kind.UNSUPPORTED));
    return a.stream();
  }

  static final String T2 = "@T2@";
  static final String T3 = "@T3@";
  static final String SECURE = "@SECURE@";

  /** The input with the domains that are known only once virsh ran. */
  static String resolve(String input) {
    return input.replace(T2, t2Domain).replace(T3, t3Domain).replace(SECURE, secureDomain);
  }

  boolean libvirtGrammarAccepts(byte[] input) throws Exception {
    InputSource in = new InputSource(new ByteArrayInputStream(input));
    in.setSystemId(dir.resolve("input.xml").toUri().toString());
    try {
      return libvirtGrammar.validate(in);
    } catch (org.xml.sax.SAXException e) {
      return false; // not well-formed
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void acceptsAndFormatsExactlyAsLibvirt(String label, String template, String vm, Kind kind) throws Exception {
    String input = resolve(template);
    byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
    Path file = dir.resolve(label.replaceAll("[^a-z0-9]", "_") + ".xml");
    Files.writeString(file, input);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^  <name>([^<]*)</name>").matcher(input);
    String name = m.find() && !m.group(1).isBlank() ? m.group(1).replace("&amp;", "&") : "s1";
    List<String> commands = new ArrayList<>();
    if (!vm.equals("test")) {
      commands.add("define " + dir.resolve(vm + ".xml"));
    }
    commands.add("snapshot-create-as test base");
    commands.add("snapshot-create " + vm + " " + file + " --redefine");
    commands.add("snapshot-dumpxml " + vm + " '" + name + "'");
    commands.add("snapshot-dumpxml " + vm + " '" + name + "' --security-info");
    List<Virsh.Reply> r = Virsh.run(dir, commands);
    int at = commands.size() - 3;
    boolean virshAccepts = !r.get(at).failed();
    boolean grammarAccepts = libvirtGrammarAccepts(bytes);

    // 1. the grammars agree: Tidemark's (with libvirt's domain grammars) and libvirt's, under Jing
    String ourGrammar = null;
    try {
      SnapshotXml.validate(bytes, file.toString(), DomainGrammar.host());
    } catch (CheckpointXmlException e) {
      ourGrammar = e.getMessage();
    }
    assertEquals(grammarAccepts, ourGrammar == null, label + ": Jing with libvirt's domainsnapshot.rng "
        + (grammarAccepts ? "accepts" : "refuses") + ", Tidemark's grammar said " + (ourGrammar == null ? "ok" : ourGrammar));

    // 2. without VALIDATE: what virsh snapshot-create --redefine accepts
    Snapshot plain = null;
    String plainError = null;
    try {
      plain = SnapshotXml.parse(bytes, file.toString(), Set.of());
    } catch (CheckpointXmlException e) {
      plainError = e.getMessage();
    }
    // 3. with VALIDATE: what libvirt's parser and libvirt's grammar both accept
    Snapshot valid = null;
    CheckpointXmlException validError = null;
    try {
      valid = SnapshotXml.parse(bytes, file.toString(), Set.of(SnapshotXml.ParseOption.VALIDATE));
    } catch (CheckpointXmlException e) {
      validError = e;
    }
    String said = label + ": virsh said '" + r.get(at).output() + "', libvirt's grammar " + (grammarAccepts ? "accepts" : "refuses")
        + ", Tidemark said " + (plainError == null ? "ok" : plainError) + " / with VALIDATE "
        + (validError == null ? "ok" : validError.getMessage());
    switch (kind) {
      case SAME -> {
        assertEquals(virshAccepts, plain != null, said);
        assertEquals(virshAccepts && grammarAccepts, valid != null, said);
      }
      case DOMAIN_PARSER -> {
        assertFalse(virshAccepts, said);
        assertFalse(grammarAccepts, said);
        assertNotNull(plain, said);
        assertNotNull(validError, said);
      }
      case DOMAIN_TEXT -> {
        assertTrue(virshAccepts, said);
        assertFalse(grammarAccepts, said);
        assertNotNull(validError, said);
        assertNotNull(plain, said);
        String kept = plain.inactiveDomain().orElse(plain.domain().orElseThrow()).xml();
        assertTrue(input.contains(kept.replace("\n", "\n  ")), said + ": the domain's text is kept");
        return;
      }
      case UNSUPPORTED -> {
        assertTrue(plainError != null && (!virshAccepts || plainError.contains("not supported by Tidemark")), said);
        assertTrue(validError != null && validError.line() > 0, said);
        if (virshAccepts && grammarAccepts) {
          assertTrue(validError.getMessage().contains("not supported by Tidemark"), said);
        }
        return;
      }
      default -> throw new AssertionError(kind);
    }
    if (validError != null) {
      assertTrue(validError.line() > 0, label + ": a refusal names its line: " + validError.getMessage());
    }
    if (virshAccepts && plain != null) {
      assertEquals(r.get(at + 1).output() + "\n", SnapshotXml.format(plain), label);
      assertEquals(r.get(at + 2).output() + "\n", SnapshotXml.format(plain, Set.of(SnapshotXml.FormatFlag.SECURE)), label + " (secure)");
      if (valid != null) {
        assertEquals(plain, valid, label + ": validation changes nothing in what is read");
      }
      if (plain.creationTime() != 0) { // with time 0 libvirt prints none, and a redefinition needs one
        // formatting is stable (parse, format, parse, format), or libvirt's own dump is not either
        String once = SnapshotXml.format(plain, Set.of(SnapshotXml.FormatFlag.SECURE));
        String twice;
        try {
          twice = SnapshotXml.format(SnapshotXml.parse(once.getBytes(StandardCharsets.UTF_8), "again", Set.of()),
              Set.of(SnapshotXml.FormatFlag.SECURE));
        } catch (CheckpointXmlException e) {
          twice = null;
        }
        if (!once.equals(twice)) {
          Path dump = dir.resolve("dump-" + file.getFileName());
          Files.writeString(dump, once);
          List<String> again = new ArrayList<>(commands.subList(0, at));
          again.add("snapshot-create " + vm + " " + dump + " --redefine");
          again.add("snapshot-dumpxml " + vm + " '" + name + "' --security-info");
          List<Virsh.Reply> r2 = Virsh.run(dir, again);
          if (twice == null) {
            assertTrue(r2.get(at).failed(), label + ": libvirt redefines its own dump, Tidemark refused it");
          } else {
            assertEquals(r2.get(at + 1).output() + "\n", twice, label + ": libvirt's own dump is not stable either, and changes so");
          }
        }
      }
    }
  }

  @Test
  void aDomainLessRedefinitionIsAllowedOnlyOnRequestAsForAnExistingSnapshotInLibvirt() throws Exception {
    String existing = doc("s1", "shutoff", "5", "", domain);
    String again = doc("s1", "shutoff", "6", "  <description>again</description>\n", "");
    Path first = dir.resolve("existing.xml");
    Path second = dir.resolve("again.xml");
    Files.writeString(first, existing);
    Files.writeString(second, again);
    List<Virsh.Reply> r = Virsh.run(dir, List.of("snapshot-create test " + second + " --redefine",
        "snapshot-create test " + first + " --redefine", "snapshot-create test " + second + " --redefine",
        "snapshot-dumpxml test s1"));
    assertTrue(r.get(0).failed(), "libvirt needs a domain for a new snapshot: " + r.get(0).output());
    assertFalse(r.get(2).failed(), "libvirt takes a domain-less redefinition of an existing one: " + r.get(2).output());
    byte[] bytes = again.getBytes(StandardCharsets.UTF_8);
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class, () -> SnapshotXml.parse(bytes, "again.xml", Set.of()));
    assertTrue(e.getMessage().contains("<domain>") && e.line() > 0, e.getMessage());
    Snapshot s = SnapshotXml.parse(bytes, "again.xml", Set.of(SnapshotXml.ParseOption.ALLOW_MISSING_DOMAIN));
    assertTrue(s.domain().isEmpty());
    // libvirt keeps the existing snapshot's domain (and aligned disks); the caller does the same
    Snapshot old = SnapshotXml.parse(existing.getBytes(StandardCharsets.UTF_8), "existing.xml", Set.of());
    Snapshot merged = s.toBuilder().domain(old.domain().orElseThrow()).build();
    for (var d : old.disks()) {
      merged = merged.toBuilder().addDisk(d).build();
    }
    assertEquals(r.get(3).output() + "\n", SnapshotXml.format(merged));
  }

  @Test
  void xxeAndBillionLaughsAreRefusedWithoutValidationToo() {
    String xxe = "<?xml version='1.0'?>\n<!DOCTYPE domainsnapshot [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
        + "<domainsnapshot><name>&x;</name></domainsnapshot>\n";
    StringBuilder lol = new StringBuilder("<!DOCTYPE domainsnapshot [<!ENTITY a 'aaaaaaaaaa'>");
    for (int i = 1; i < 10; i++) {
      lol.append("<!ENTITY a").append(i).append(" '").append(("&a" + (i == 1 ? "" : i - 1) + ";").repeat(10)).append("'>");
    }
    lol.append("]>\n<domainsnapshot><name>&a9;</name></domainsnapshot>\n");
    String external = "<!DOCTYPE domainsnapshot SYSTEM 'http://127.0.0.1:9/x.dtd'>\n<domainsnapshot/>\n";
    for (Set<SnapshotXml.ParseOption> options : List.of(Set.<SnapshotXml.ParseOption>of(), Set.of(SnapshotXml.ParseOption.VALIDATE))) {
      for (String bad : new String[] {xxe, lol.toString(), external}) {
        CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
            () -> SnapshotXml.parse(bad.getBytes(StandardCharsets.UTF_8), "evil.xml", options));
        assertTrue(e.getMessage().startsWith("evil.xml:") && e.line() > 0, e.getMessage());
        assertTrue(e.getMessage().contains("not allowed"), e.getMessage());
      }
      String deep = "<domainsnapshot><name>x</name>" + "<a>".repeat(1000) + "</a>".repeat(1000) + "</domainsnapshot>";
      CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
          () -> SnapshotXml.parse(deep.getBytes(StandardCharsets.UTF_8), "deep.xml", options));
      assertTrue(e.getMessage().contains("nested deeper"), e.getMessage());
    }
  }

  @Test
  void validationIsOptInUnlikeCheckpoints() throws Exception {
    // libvirt's grammar refuses a raw overlay and an unknown element; its parser (and Tidemark's
    // parse without VALIDATE) accepts both
    String input = run("  <color>red</color>\n" + disks("    <disk name='vda'>\n      <driver type='raw'/>\n"
        + "      <source file='/x/y.raw'/>\n    </disk>\n"));
    byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
    Snapshot s = SnapshotXml.parse(bytes, "s1.xml", Set.of());
    assertEquals("raw", s.disks().get(0).driverType().orElseThrow());
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> SnapshotXml.parse(bytes, "s1.xml", Set.of(SnapshotXml.ParseOption.VALIDATE)));
    assertTrue(e.getMessage().startsWith("s1.xml:5:"), e.getMessage());
    assertTrue(e.column() > 0, e.getMessage());
  }

  @Test
  void theDomainGrammarsAreLibvirtsWhenInstalledAndStructuralOtherwise() throws Exception {
    String bogusDomain = doc("s1", "running", "5", "", domain.replace("    <vcpu", "    <bogus/>\n    <vcpu"));
    String bogusInactive = run("").replace("</domainsnapshot>",
        domain.replace("<domain ", "<inactiveDomain ").replace("</domain>", "</inactiveDomain>")
            .replace("    <vcpu", "    <bogus/>\n    <vcpu") + "</domainsnapshot>");
    Set<SnapshotXml.ParseOption> validate = Set.of(SnapshotXml.ParseOption.VALIDATE);
    for (String[] c : new String[][] {{bogusDomain, "<domain> does not match libvirt's domain grammar"},
        {bogusInactive, "<inactiveDomain> does not match libvirt's inactiveDomain grammar"}}) {
      byte[] bytes = c[0].getBytes(StandardCharsets.UTF_8);
      CheckpointXmlException e = assertThrows(CheckpointXmlException.class, () -> SnapshotXml.parse(bytes, "b.xml", validate));
      assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("bogus") && e.line() > 0, e.getMessage());
      // Tidemark's grammar alone checks a domain's structure only (a type, a name, any content)
      assertEquals("s1", SnapshotXml.parse(bytes, "b.xml", validate, DomainGrammar.builtIn()).name());
    }
    byte[] typeless = run("").replace("<domain type='test'>", "<domain>").getBytes(StandardCharsets.UTF_8);
    CheckpointXmlException e = assertThrows(CheckpointXmlException.class,
        () -> SnapshotXml.parse(typeless, "t.xml", validate, DomainGrammar.builtIn()));
    assertTrue(e.line() > 0, e.getMessage());
  }

  @Test
  void theModelHoldsWhatWasRead() throws Exception {
    String input = doc("s1", "disk-snapshot", "5", "  <description>d</description>\n  <parent>\n    <name>p</name>\n  </parent>\n"
        + disks("    <disk name='vda' type='block'>\n      <driver type='qcow2'/>\n      <source dev='/dev/sdz'/>\n    </disk>\n"), domain);
    Snapshot s = SnapshotXml.parse(input.getBytes(StandardCharsets.UTF_8), "m.xml", Set.of());
    assertEquals("disk-snapshot", s.state().orElseThrow());
    assertEquals(new org.tidemark.model.SnapshotMemory("no", java.util.Optional.empty()), s.memory().orElseThrow());
    assertEquals(List.of(new org.tidemark.model.SnapshotDisk("vda", java.util.Optional.of("external"), java.util.Optional.of("block"),
        java.util.Optional.of("qcow2"), java.util.Optional.of("/dev/sdz"))), s.disks());
    assertEquals("p", s.parentName().orElseThrow());
    assertEquals("d", s.description().orElseThrow());
    assertEquals("test", s.domain().orElseThrow().name());
    assertEquals(5, s.creationTime());
    assertTrue(s.inactiveDomain().isEmpty());
  }

  @Test
  void theShippedGrammarIsTidemarksOwn() throws Exception {
    try (var in = SnapshotXml.class.getResourceAsStream("domainsnapshot.rng")) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertFalse(text.contains("<include href"), "self-contained");
      assertFalse(text.contains("externalRef"), "self-contained");
    }
  }
}
