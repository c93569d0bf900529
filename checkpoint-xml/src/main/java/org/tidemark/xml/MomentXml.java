package org.tidemark.xml;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.model.Moment;

/**
 * What checkpoints and snapshots share in XML: the moment's fields, numbers as libvirt reads them,
 * the embedded domain (kept as text, plus the facts Tidemark needs), escaping. Package-private.
 */
final class MomentXml {
  private MomentXml() {}

  // ------------------------------------------------------------------ reading the shared fields

  /**
   * Reads what every redefined moment has in common: the {@code <name>} (required, not empty), the
   * {@code <description>} (empty is none) and the parent's name ({@code <parent><name>}, empty is
   * none). {@code kind} names the document for messages ("checkpoint", "snapshot").
   */
  static void readMoment(XmlElement root, Moment.Builder<?, ?> b, String kind, String resource)
      throws CheckpointXmlException {
    Optional<String> name = childText(root, "name").filter(n -> !n.isEmpty());
    if (name.isEmpty()) {
      throw error(root, resource, "a redefined " + kind + " needs a <name>");
    }
    b.name(name.get());
    childText(root, "description").ifPresent(b::description);
    XmlElement parent = child(root, "parent");
    if (parent != null) {
      childText(parent, "name").filter(n -> !n.isEmpty()).ifPresent(b::parentName);
    }
  }

  /** A refusal at the start tag of {@code at} (its line and column when known). */
  static CheckpointXmlException error(XmlElement at, String resource, String problem) {
    return new CheckpointXmlException(resource, at.line(), at.column(), problem);
  }

  // ------------------------------------------------------------------ writing the shared fields

  /** {@code <name>} and, when present, {@code <description>}, as libvirt writes them first. */
  static void appendNameAndDescription(StringBuilder out, Moment m) {
    out.append("  <name>").append(escape(m.name())).append("</name>\n");
    m.description().ifPresent(d -> out.append("  <description>").append(escape(d)).append("</description>\n"));
  }

  /** {@code <parent>} when the moment has one. */
  static void appendParent(StringBuilder out, Moment m) {
    m.parentName().ifPresent(p -> out.append("  <parent>\n    <name>").append(escape(p)).append("</name>\n  </parent>\n"));
  }

  /** {@code <creationTime>} unless it is 0 (libvirt's "not set"). */
  static void appendCreationTime(StringBuilder out, Moment m) {
    if (m.creationTime() != 0) {
      out.append("  <creationTime>").append(m.creationTime()).append("</creationTime>\n");
    }
  }

  /**
   * A kept domain definition ({@code <domain>} or a snapshot's {@code <inactiveDomain>}) indented
   * one level, its graphics passwords left out unless {@code secure}.
   */
  static void appendDomain(StringBuilder out, DomainDefinition d, boolean secure) {
    String xml = secure ? d.xml() : withoutSecrets(d.xml());
    for (String line : xml.split("\n", -1)) {
      out.append("  ").append(line).append('\n');
    }
  }

  /** The text of {@code at} as a number of 0 or more, refused at {@code at}'s position otherwise. */
  static long parseNumber(XmlElement at, String what, String resource) throws CheckpointXmlException {
    String s = at.getTextContent();
    try {
      long v = Long.parseLong(s);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw error(at, resource, "invalid " + what + " '" + s + "'");
    }
  }

  static DomainDefinition domainDefinition(XmlElement domain, String text, String resource)
      throws CheckpointXmlException {
    List<DomainDisk> disks = new ArrayList<>();
    XmlElement devices = child(domain, "devices");
    if (devices != null) {
      for (XmlElement d : children(devices, "disk")) {
        XmlElement target = child(d, "target");
        if (target == null || target.getAttribute("dev").isEmpty()) {
          continue;
        }
        XmlElement source = child(d, "source");
        Optional<String> src = Optional.empty();
        if (source != null) {
          for (String attr : new String[] {"file", "dev", "name", "volume"}) {
            if (source.hasAttribute(attr)) {
              src = Optional.of(source.getAttribute(attr));
              break;
            }
          }
        }
        XmlElement driver = child(d, "driver");
        Optional<String> driverType = driver != null && driver.hasAttribute("type")
            ? Optional.of(driver.getAttribute("type")) : Optional.empty();
        String device = d.hasAttribute("device") ? d.getAttribute("device") : "disk";
        disks.add(new DomainDisk(target.getAttribute("dev"), src, driverType, device,
            child(d, "readonly") != null, src.isEmpty()));
      }
    }
    return new DomainDefinition(elementText(text, domain.getLocalName(), resource), domain.getAttribute("type"),
        childText(domain, "name").orElse(""), childText(domain, "uuid"), disks);
  }

  /**
   * The text of the child element {@code name} of the document's root ({@code domain} or
   * {@code inactiveDomain}) as written, de-indented to a top-level document.
   */
  static String elementText(String text, String name, String resource) throws CheckpointXmlException {
    String open = "<" + name;
    String close = "</" + name + ">";
    int start = -1;
    for (int i = text.indexOf(open); i >= 0; i = text.indexOf(open, i + 1)) {
      char next = i + open.length() < text.length() ? text.charAt(i + open.length()) : ' ';
      if (Character.isWhitespace(next) || next == '>' || next == '/') {
        start = i;
        break;
      }
    }
    if (start < 0) {
      throw new CheckpointXmlException(resource, 0, 0, "cannot locate the <" + name + "> element's text");
    }
    int end = text.indexOf(close, start);
    int selfClose = text.indexOf("/>", start);
    int tagEnd = text.indexOf('>', start);
    String element;
    if (selfClose >= 0 && selfClose + 1 == tagEnd) { // <domain .../>
      element = text.substring(start, selfClose + 2);
    } else if (end >= 0) {
      element = text.substring(start, end + close.length());
    } else {
      throw new CheckpointXmlException(resource, 0, 0, "cannot locate the end of the <" + name + "> element");
    }
    int lineStart = text.lastIndexOf('\n', start) + 1;
    String indent = text.substring(lineStart, start);
    if (!indent.isBlank()) {
      indent = "";
    }
    StringBuilder out = new StringBuilder(element.length());
    String[] lines = element.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i];
      out.append(i > 0 && l.startsWith(indent) ? l.substring(indent.length()) : l);
      if (i < lines.length - 1) {
        out.append('\n');
      }
    }
    return out.toString();
  }

  static XmlElement child(XmlElement parent, String name) {
    for (XmlElement e : parent.elements()) {
      if (e.getLocalName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  static List<XmlElement> children(XmlElement parent, String name) {
    List<XmlElement> out = new ArrayList<>();
    for (XmlElement e : parent.elements()) {
      if (e.getLocalName().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  static Optional<String> childText(XmlElement parent, String name) {
    XmlElement e = child(parent, name);
    return e == null ? Optional.empty() : Optional.of(e.getTextContent());
  }

  private static final java.util.regex.Pattern GRAPHICS_PASSWORD =
      java.util.regex.Pattern.compile("(<graphics\\b[^>]*?)\\s+passwd=(?:'[^']*'|\"[^\"]*\")");

  /**
   * The domain's text without what libvirt prints only with its SECURE flag: the {@code passwd}
   * of each {@code <graphics>} (VNC, SPICE), which libvirt leaves out of every dump unless asked.
   */
  static String withoutSecrets(String domainXml) {
    if (!domainXml.contains("passwd=")) {
      return domainXml;
    }
    return GRAPHICS_PASSWORD.matcher(domainXml).replaceAll("$1");
  }

  /** Escapes the five XML entities, as libvirt does in text and attributes. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      switch (ch) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '\'' -> b.append("&apos;");
        case '"' -> b.append("&quot;");
        default -> b.append(ch);
      }
    }
    return b.toString();
  }
}
