package org.tidemark.xml;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * What checkpoints and snapshots share in XML: the moment's fields, numbers as libvirt reads them,
 * the embedded domain (kept as text, plus the facts Tidemark needs), escaping. Package-private.
 */
final class MomentXml {
  private MomentXml() {}

  static long parseNumber(String s, String what, String resource) throws CheckpointXmlException {
    try {
      long v = Long.parseLong(s);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new CheckpointXmlException(resource, 0, 0, "invalid " + what + " '" + s + "'");
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
