package org.tidemark.xml;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Rewrites a libvirt domain definition for restored disk images: the definition a restore writes
 * beside its images, and defines under a new name.
 *
 * <p>The input is either a {@code <domain>} document ({@code virsh dumpxml}) or a document whose
 * root has a {@code <domain>} child (a checkpoint, a snapshot); it is read as safely as every
 * libvirt document here (UTF-8 only, size and depth limits, no DTD declarations, entities or
 * external resources). The output is the domain as a top-level document, well-formed UTF-8 text:
 * element order, attributes, namespace prefixes, text and the layout between elements are kept
 * (an embedded domain is de-indented to the top level); comments are not kept. Attributes are
 * written single-quoted and namespace declarations after the other attributes, as libvirt writes them.
 *
 * <p>What changes, and the rule behind it: <b>no rewritten definition points at an original
 * writable disk</b>.
 *
 * <ul>
 *   <li>Each restored disk (matched by its {@code <target dev>}) becomes a {@code type='file'} disk
 *       whose {@code <source file>} is the restored image's absolute path, whatever its source was
 *       (a file, a block device, a network or pool volume: the {@code <source>} is replaced whole,
 *       its children with it); {@code <driver type>} is the restored format (a {@code <driver>} is
 *       added when missing); its {@code <backingStore>} and {@code <mirror>} are removed (a restored
 *       image is flat and has no block job), and so are an {@code <auth>} and an {@code <encryption>}
 *       of the disk (they were the original storage's: a restored image holds the guest's plain
 *       data, as the backup read it). A {@code device='lun'} disk (SCSI passthrough, which
 *       needs a block device) becomes {@code device='disk'}, without {@code sgio} and {@code rawio}.
 *   <li>A disk that was not restored is removed from the definition when it could be written: one
 *       with a source that is neither a CD-ROM ({@code device='cdrom'}) nor {@code <readonly/>}.
 *       CD-ROMs, read-only disks and disks without a source (an empty drive) are kept as they are:
 *       a guest cannot damage them. {@link Rewritten#removedDisks()} names the disks removed.
 *   <li>With a new name ({@link #rewrite(byte[], String, List, Optional, RandomGenerator)}): the
 *       {@code <name>} is replaced; the {@code <uuid>} gets a new random (version 4) UUID, and so
 *       does an SMBIOS {@code <sysinfo>} {@code uuid} entry (libvirt refuses a definition where
 *       they differ); every {@code <interface>}'s {@code <mac address>} gets a new random address
 *       in QEMU's locally administered prefix {@code 52:54:00}; an {@code <os><nvram>} loses its
 *       path (its text, its {@code <source>} and {@code type}), keeping its {@code template}, so
 *       that libvirt creates the new domain's own UEFI variables instead of sharing the
 *       original's file. Without a new name the identity is kept: the definition is the original
 *       domain's, for replacing it.
 * </ul>
 *
 * <p>Thread-safe: no state is shared between calls.
 */
public final class DomainRewriter {
  /** QEMU's (and libvirt's) prefix of generated MAC addresses: locally administered, unicast. */
  public static final String QEMU_MAC_PREFIX = "52:54:00";

  private static final SecureRandom RANDOM = new SecureRandom();

  private DomainRewriter() {}

  /**
   * A restored disk image.
   *
   * @param target the disk's target device in the definition ({@code vda}, {@code sdb})
   * @param image the restored image, an absolute path
   * @param format its format, {@code raw} or {@code qcow2} (libvirt's driver type)
   */
  public record RestoredDisk(String target, Path image, String format) {
    /** Checks the fields. */
    public RestoredDisk {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(image, "image");
      Objects.requireNonNull(format, "format");
      if (!image.isAbsolute()) {
        throw new IllegalArgumentException("the restored image of " + target + " must be an absolute path, not " + image);
      }
      if (!format.equals("raw") && !format.equals("qcow2")) {
        throw new IllegalArgumentException("the restored image of " + target + " is '" + format + "'; expected raw or qcow2");
      }
    }
  }

  /**
   * A rewritten definition.
   *
   * @param xml the {@code <domain>} document, ending with a newline
   * @param name the domain's name in it
   * @param removedDisks the target devices of the writable disks removed because they were not
   *     restored, in document order
   * @param unmatchedDisks the restored disks the definition has no disk for (their images are not
   *     referenced)
   */
  public record Rewritten(String xml, String name, List<String> removedDisks, List<String> unmatchedDisks) {
    /** Freezes the lists. */
    public Rewritten {
      removedDisks = List.copyOf(removedDisks);
      unmatchedDisks = List.copyOf(unmatchedDisks);
    }
  }

  /**
   * Rewrites the domain of {@code xml} for {@code disks}, keeping its name and identity.
   *
   * @return empty when the document has no {@code <domain>} (a checkpoint saved without one)
   * @throws CheckpointXmlException when the document is refused, or its domain has no type or name
   */
  public static Optional<Rewritten> rewrite(byte[] xml, String resource, List<RestoredDisk> disks)
      throws CheckpointXmlException {
    return rewrite(xml, resource, disks, Optional.empty(), RANDOM);
  }

  /**
   * Rewrites the domain of {@code xml} for {@code disks}; with {@code newName}, also gives it that
   * name, a new UUID and new MAC addresses drawn from {@code random}.
   *
   * @return empty when the document has no {@code <domain>} (a checkpoint saved without one)
   * @throws IllegalArgumentException when {@code newName} is empty or has a {@code /} or a line
   *     break (libvirt's QEMU driver refuses those), or two disks have the same target
   * @throws CheckpointXmlException when the document is refused, or its domain has no type or name
   */
  public static Optional<Rewritten> rewrite(byte[] xml, String resource, List<RestoredDisk> disks,
      Optional<String> newName, RandomGenerator random) throws CheckpointXmlException {
    newName.ifPresent(DomainRewriter::checkName);
    Map<String, RestoredDisk> byTarget = new LinkedHashMap<>();
    for (RestoredDisk d : disks) {
      if (byTarget.put(d.target(), d) != null) {
        throw new IllegalArgumentException("two restored disks have the target " + d.target());
      }
    }
    String text = SafeXml.read(xml, resource);
    TreeBuilder tree = new TreeBuilder();
    SafeXml.parseInto(text, resource, tree);
    Node root = tree.root;
    Node domain;
    if (root.is("domain")) {
      domain = root;
    } else {
      domain = root.child("domain");
      if (domain == null) {
        return Optional.empty();
      }
      deindent(domain, indentBefore(root, domain));
      tree.inScope.get(domain).forEach((prefix, uri) -> {
        String attr = prefix.isEmpty() ? "xmlns" : "xmlns:" + prefix;
        if (domain.attribute(attr) == null) {
          domain.attrs.add(new String[] {attr, uri});
        }
      });
    }
    Node name = domain.child("name");
    if (domain.attribute("type") == null || name == null || name.text().isEmpty()) {
      throw new CheckpointXmlException(resource, domain.line, domain.column,
          "the <domain> needs a type attribute and a <name> to be restored as a definition");
    }
    List<String> removed = new ArrayList<>();
    Set<String> matched = new HashSet<>();
    boolean qemu = List.of("kvm", "qemu").contains(domain.attribute("type"));
    Node devices = domain.child("devices");
    if (devices != null) {
      for (Node disk : devices.children("disk")) {
        Node target = disk.child("target");
        String dev = target == null ? null : target.attribute("dev");
        RestoredDisk restored = dev == null ? null : byTarget.get(dev);
        if (restored != null) {
          pointAtImage(disk, restored, qemu);
          matched.add(dev);
        } else if (writable(disk)) {
          devices.remove(disk);
          removed.add(dev == null ? "(a disk without a target)" : dev);
        }
      }
    }
    if (newName.isPresent()) {
      newIdentity(domain, name, newName.get(), random);
    }
    List<String> unmatched = byTarget.keySet().stream().filter(t -> !matched.contains(t)).toList();
    StringBuilder out = new StringBuilder(text.length());
    domain.write(out);
    out.append('\n');
    return Optional.of(new Rewritten(out.toString(), domain.child("name").text(), removed, unmatched));
  }

  /** A random MAC address in {@value #QEMU_MAC_PREFIX}, lower-case hex as libvirt writes it. */
  public static String randomMac(RandomGenerator random) {
    return String.format("%s:%02x:%02x:%02x", QEMU_MAC_PREFIX, random.nextInt(256), random.nextInt(256),
        random.nextInt(256));
  }

  /**
   * Checks a new domain name as {@link #rewrite(byte[], String, List, Optional, RandomGenerator)}
   * does, for callers that check before anything is done.
   *
   * @throws IllegalArgumentException when it is blank or has a {@code /} or a line break
   */
  public static void checkName(String name) {
    if (name.isBlank() || name.contains("/") || name.contains("\n") || name.contains("\r")) {
      throw new IllegalArgumentException("invalid domain name '" + name.replace("\n", "\\n").replace("\r", "\\r")
          + "': expected a name that is not blank and has no '/' or line break");
    }
  }

  /** Whether a disk that was not restored could be written by the guest: it is removed then. */
  private static boolean writable(Node disk) {
    if ("cdrom".equals(disk.attribute("device")) || disk.child("readonly") != null) {
      return false;
    }
    return disk.child("source") != null; // no source: an empty drive
  }

  private static void pointAtImage(Node disk, RestoredDisk restored, boolean qemu) {
    disk.setAttribute("type", "file");
    if ("lun".equals(disk.attribute("device"))) {
      disk.setAttribute("device", "disk");
      disk.removeAttribute("sgio");
      disk.removeAttribute("rawio");
    }
    Node source = new Node("source", 0, 0);
    source.attrs.add(new String[] {"file", restored.image().toString()});
    Node old = disk.child("source");
    if (old != null) {
      disk.replace(old, source);
    }
    Node driver = disk.child("driver");
    if (driver == null) {
      driver = new Node("driver", 0, 0);
      if (qemu) {
        driver.attrs.add(new String[] {"name", "qemu"});
      }
      disk.insertFirst(driver);
    }
    driver.setAttribute("type", restored.format());
    if (old == null) {
      disk.insertAfter(driver, source);
    }
    for (String gone : List.of("backingStore", "mirror", "auth", "encryption")) {
      for (Node n : disk.children(gone)) {
        disk.remove(n);
      }
    }
  }

  private static void newIdentity(Node domain, Node name, String newName, RandomGenerator random) {
    name.setText(newName);
    String uuid = randomUuid(random);
    Node uuidNode = domain.child("uuid");
    if (uuidNode != null) {
      uuidNode.setText(uuid);
    } else {
      Node u = new Node("uuid", 0, 0);
      u.setText(uuid);
      domain.insertAfter(name, u);
    }
    for (Node sysinfo : domain.children("sysinfo")) {
      Node system = sysinfo.child("system");
      for (Node entry : system == null ? List.<Node>of() : system.children("entry")) {
        if ("uuid".equals(entry.attribute("name"))) {
          entry.setText(uuid);
        }
      }
    }
    Node devices = domain.child("devices");
    for (Node iface : devices == null ? List.<Node>of() : devices.children("interface")) {
      Node mac = iface.child("mac");
      if (mac != null) {
        mac.setAttribute("address", randomMac(random));
      }
    }
    Node os = domain.child("os");
    Node nvram = os == null ? null : os.child("nvram");
    if (nvram != null) {
      nvram.children.clear();
      nvram.removeAttribute("type");
    }
  }

  private static String randomUuid(RandomGenerator random) {
    long hi = random.nextLong();
    long lo = random.nextLong();
    hi = (hi & ~0xf000L) | 0x4000L; // version 4
    lo = (lo & 0x3fffffffffffffffL) | 0x8000000000000000L; // IETF variant
    return new java.util.UUID(hi, lo).toString();
  }

  /** The white space after the last line break before {@code child} in {@code parent}; empty when none. */
  private static String indentBefore(Node parent, Node child) {
    int i = parent.children.indexOf(child);
    if (i > 0 && parent.children.get(i - 1) instanceof StringBuilder t && t.toString().isBlank()) {
      String s = t.toString();
      return s.substring(s.lastIndexOf('\n') + 1);
    }
    return "";
  }

  /** Takes {@code indent} off every line of the white space between the elements of {@code n}. */
  private static void deindent(Node n, String indent) {
    if (indent.isEmpty()) {
      return;
    }
    for (Object c : n.children) {
      if (c instanceof StringBuilder t) {
        String s = t.toString();
        if (s.isBlank() && s.contains("\n")) {
          t.setLength(0);
          t.append(s.replace("\n" + indent, "\n"));
        }
      } else {
        deindent((Node) c, indent);
      }
    }
  }

  // ------------------------------------------------------------------ the document tree

  /** An element: its qualified name, attributes in order (namespace declarations last), children (elements, text). */
  private static final class Node {
    final String qName;
    final List<String[]> attrs = new ArrayList<>();
    final List<Object> children = new ArrayList<>(); // Node or StringBuilder
    final int line;
    final int column;

    Node(String qName, int line, int column) {
      this.qName = qName;
      this.line = line;
      this.column = column;
    }

    boolean is(String name) {
      return qName.equals(name);
    }

    String attribute(String name) {
      for (String[] a : attrs) {
        if (a[0].equals(name)) {
          return a[1];
        }
      }
      return null;
    }

    void setAttribute(String name, String value) {
      for (String[] a : attrs) {
        if (a[0].equals(name)) {
          a[1] = value;
          return;
        }
      }
      attrs.add(new String[] {name, value});
    }

    void removeAttribute(String name) {
      attrs.removeIf(a -> a[0].equals(name));
    }

    Node child(String name) {
      for (Object c : children) {
        if (c instanceof Node n && n.is(name)) {
          return n;
        }
      }
      return null;
    }

    List<Node> children(String name) {
      List<Node> out = new ArrayList<>();
      for (Object c : children) {
        if (c instanceof Node n && n.is(name)) {
          out.add(n);
        }
      }
      return out;
    }

    /** The element's text (its text children, joined). */
    String text() {
      StringBuilder b = new StringBuilder();
      for (Object c : children) {
        if (c instanceof StringBuilder t) {
          b.append(t);
        }
      }
      return b.toString();
    }

    void setText(String text) {
      children.clear();
      children.add(new StringBuilder(text));
    }

    /** Removes {@code child} and the white space before it (its line). */
    void remove(Node child) {
      int i = children.indexOf(child);
      children.remove(i);
      if (i > 0 && children.get(i - 1) instanceof StringBuilder t && t.toString().isBlank()) {
        children.remove(i - 1);
      }
    }

    void replace(Node old, Node by) {
      children.set(children.indexOf(old), by);
    }

    /** Inserts {@code n} as the first element, on a line of its own when the children are on lines. */
    void insertFirst(Node n) {
      int i = 0;
      while (i < children.size() && children.get(i) instanceof StringBuilder) {
        i++;
      }
      insertAt(i, n);
    }

    /** Inserts {@code n} after the element {@code after}, on a line of its own when the children are on lines. */
    void insertAfter(Node after, Node n) {
      int i = children.indexOf(after) + 1;
      if (i < children.size() && children.get(i) instanceof StringBuilder t && t.toString().isBlank()) {
        children.add(i + 1, new StringBuilder(t));
        children.add(i + 1, n);
      } else {
        insertAt(i, n);
      }
    }

    /** Inserts {@code n} at {@code i}, followed by the white space that precedes the element there. */
    private void insertAt(int i, Node n) {
      String ws = null;
      if (i > 0 && children.get(i - 1) instanceof StringBuilder t && t.toString().isBlank()) {
        ws = t.toString();
      }
      if (ws == null || i == children.size()) {
        children.add(i, n);
      } else {
        children.add(i, new StringBuilder(ws));
        children.add(i, n);
      }
    }

    void write(StringBuilder out) {
      out.append('<').append(qName);
      for (String[] a : attrs) {
        out.append(' ').append(a[0]).append("='");
        escape(a[1], true, out);
        out.append('\'');
      }
      if (children.isEmpty() || children.size() == 1 && children.get(0) instanceof StringBuilder t && t.length() == 0) {
        out.append("/>");
        return;
      }
      out.append('>');
      for (Object c : children) {
        if (c instanceof Node n) {
          n.write(out);
        } else {
          escape((CharSequence) c, false, out);
        }
      }
      out.append("</").append(qName).append('>');
    }
  }

  /**
   * Escapes text or an attribute value: the five XML entities as libvirt escapes them, and in
   * attributes the white space a parser would otherwise normalize; a carriage return everywhere.
   */
  private static void escape(CharSequence s, boolean attribute, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '\'' -> out.append(attribute ? "&apos;" : "'");
        case '"' -> out.append(attribute ? "&quot;" : "\"");
        case '\r' -> out.append("&#13;");
        case '\n' -> out.append(attribute ? "&#10;" : "\n");
        case '\t' -> out.append(attribute ? "&#9;" : "\t");
        default -> out.append(ch);
      }
    }
  }

  /** Builds the tree of {@link Node}s, with each element's namespace declarations as attributes. */
  private static final class TreeBuilder extends DefaultHandler {
    Node root;
    /** The namespaces in scope (prefix to URI) at the root and its children, for a domain taken out of its document. */
    final Map<Node, Map<String, String>> inScope = new HashMap<>();
    private final List<Node> open = new ArrayList<>();
    private final List<String[]> pending = new ArrayList<>();
    private Locator locator;

    @Override
    public void setDocumentLocator(Locator locator) {
      this.locator = locator;
    }

    @Override
    public void startPrefixMapping(String prefix, String uri) {
      pending.add(new String[] {prefix, uri});
    }

    @Override
    public void startElement(String uri, String local, String qName, Attributes atts) {
      Node n = new Node(qName, locator == null ? 0 : locator.getLineNumber(), locator == null ? 0 : locator.getColumnNumber());
      for (int i = 0; i < atts.getLength(); i++) {
        n.attrs.add(new String[] {atts.getQName(i), atts.getValue(i)});
      }
      for (String[] p : pending) { // after the attributes, where libvirt writes them
        n.attrs.add(new String[] {p[0].isEmpty() ? "xmlns" : "xmlns:" + p[0], p[1]});
      }
      if (open.size() <= 1) { // the root and its children (where an embedded domain is)
        Map<String, String> scope = new LinkedHashMap<>(open.isEmpty() ? Map.of() : inScope.get(open.get(0)));
        pending.forEach(p -> scope.put(p[0], p[1]));
        inScope.put(n, scope);
      }
      pending.clear();
      if (open.isEmpty()) {
        root = n;
      } else {
        open.get(open.size() - 1).children.add(n);
      }
      open.add(n);
    }

    @Override
    public void endElement(String uri, String local, String qName) {
      open.remove(open.size() - 1);
    }

    @Override
    public void characters(char[] ch, int start, int length) {
      if (open.isEmpty()) {
        return;
      }
      List<Object> c = open.get(open.size() - 1).children;
      if (!c.isEmpty() && c.get(c.size() - 1) instanceof StringBuilder t) {
        t.append(ch, start, length);
      } else {
        c.add(new StringBuilder().append(ch, start, length));
      }
    }

    @Override
    public void ignorableWhitespace(char[] ch, int start, int length) {
      characters(ch, start, length);
    }
  }
}
