package org.tidemark.xml;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.XMLReader;
import org.xml.sax.helpers.XMLFilterImpl;

/**
 * Reads and writes libvirt checkpoint XML ({@code <domaincheckpoint>}) as libvirt does.
 *
 * <p><b>Parsing</b> always validates the document against Tidemark's checkpoint grammar (RELAX NG,
 * with Jing) before interpreting it; nothing turns that off. Documents are limited to {@value
 * #MAX_BYTES} bytes and {@value #MAX_DEPTH} levels of nesting; DTD declarations, entities and
 * external resources are refused (a bare {@code <!DOCTYPE domaincheckpoint>} is accepted, as
 * libvirt accepts it), so no document makes the parser read a file or expand entities. Parsing
 * is in libvirt's REDEFINE mode: name and creation time are required, and so is {@code <domain>}
 * unless {@link ParseOption#ALLOW_MISSING_DOMAIN} admits the domain-less form libvirt 7.0 and
 * later writes with NO_DOMAIN. A disk without a {@code checkpoint} attribute is tracked by a bitmap;
 * a bitmap disk without a {@code bitmap} attribute uses the checkpoint's name. An empty
 * description is no description.
 *
 * <p><b>Formatting</b> writes libvirt's layout byte for byte: fixed child order, two-space indent,
 * single-quoted attributes, the five XML entities escaped, a newline after every line, no XML
 * declaration, and the embedded {@code <domain>} given back as it was read, indented one level.
 *
 * <p>Thread-safe: the grammar is compiled once and shared, each thread reuses its own validator.
 */
public final class CheckpointXml {
  /** The largest document read, in bytes. */
  public static final int MAX_BYTES = 16 << 20;
  /** The deepest element nesting accepted. */
  public static final int MAX_DEPTH = 256;

  /** Options of {@link #parse}. */
  public enum ParseOption {
    /** Accept a redefinition without {@code <domain>} (what libvirt writes with NO_DOMAIN). */
    ALLOW_MISSING_DOMAIN
  }

  /** Flags of {@link #format}, with libvirt's meaning. */
  public enum FormatFlag {
    /** Include security-sensitive parts of the domain (kept as read either way). */
    SECURE,
    /** Leave out the {@code <domain>}. */
    NO_DOMAIN,
    /** Write each disk's {@code size} when known. */
    SIZE
  }

  private static final String JDK_MAX_DEPTH = "http://www.oracle.com/xml/jaxp/properties/maxElementDepth";

  private CheckpointXml() {}

  /**
   * Parses and validates a checkpoint document in REDEFINE mode.
   *
   * @param xml the document's bytes (UTF-8)
   * @param resource the document's name for messages (a path, or {@code -})
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static Checkpoint parse(byte[] xml, String resource, Set<ParseOption> options) throws CheckpointXmlException {
    if (xml.length > MAX_BYTES) {
      throw new CheckpointXmlException(resource, 0, 0, "document of " + xml.length + " bytes is larger than the limit of " + MAX_BYTES);
    }
    String text = decode(xml, resource);
    refuseDeclarations(text, resource);
    validate(xml, resource);
    Document doc = dom(xml, resource);
    return interpret(doc.getDocumentElement(), text, resource, options);
  }

  private static String decode(byte[] xml, String resource) throws CheckpointXmlException {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(xml)).toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointXmlException(resource, 0, 0, "not valid UTF-8");
    }
  }

  /** Refuses DTD internal subsets and entity declarations before any parser sees them. */
  private static void refuseDeclarations(String text, String resource) throws CheckpointXmlException {
    int doctype = text.indexOf("<!DOCTYPE");
    if (doctype >= 0) {
      int end = text.indexOf('>', doctype);
      String decl = end < 0 ? text.substring(doctype) : text.substring(doctype, end);
      if (!decl.replaceAll("\\s+", " ").trim().equals("<!DOCTYPE domaincheckpoint")) {
        throw new CheckpointXmlException(resource, lineOf(text, doctype), 0,
            "DTD declarations are not allowed (only a bare <!DOCTYPE domaincheckpoint>)");
      }
    }
    int entity = text.indexOf("<!ENTITY");
    if (entity >= 0) {
      throw new CheckpointXmlException(resource, lineOf(text, entity), 0, "entity declarations are not allowed");
    }
  }

  private static int lineOf(String text, int index) {
    int line = 1;
    for (int i = 0; i < index; i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  private static void validate(byte[] xml, String resource) throws CheckpointXmlException {
    CheckpointSchema.Checker checker = CheckpointSchema.checker();
    try {
      SAXParserFactory f = SAXParserFactory.newInstance();
      f.setNamespaceAware(true);
      f.setXIncludeAware(false);
      secure(f);
      XMLReader reader = f.newSAXParser().getXMLReader();
      // the JDK's own depth limit differs between releases (none on 17, 100 on 25): set it above
      // ours so that the same documents are refused, with the same message, on every JDK
      reader.setProperty(JDK_MAX_DEPTH, String.valueOf(2 * MAX_DEPTH));
      reader.setEntityResolver((publicId, systemId) -> {
        throw new SAXException("external resource '" + systemId + "' refused");
      });
      DepthLimit limit = new DepthLimit();
      limit.setParent(reader);
      limit.setContentHandler(checker.validator.getContentHandler());
      limit.setErrorHandler(checker);
      InputSource in = new InputSource(new ByteArrayInputStream(xml));
      in.setSystemId(resource);
      limit.parse(in);
    } catch (SAXParseException e) {
      throw new CheckpointXmlException(resource, e.getLineNumber(), e.getColumnNumber(), e.getMessage());
    } catch (SAXException | IOException | ParserConfigurationException e) {
      throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
    }
    if (!checker.errors.isEmpty()) {
      SAXParseException e = checker.errors.get(0);
      throw new CheckpointXmlException(resource, e.getLineNumber(), e.getColumnNumber(), e.getMessage());
    }
  }

  private static void secure(SAXParserFactory f) throws ParserConfigurationException, SAXException {
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://xml.org/sax/features/external-general-entities", false);
    f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
  }

  /** Stops a document nested deeper than {@link #MAX_DEPTH}. */
  private static final class DepthLimit extends XMLFilterImpl {
    private int depth;
    private org.xml.sax.Locator locator;

    @Override
    public void setDocumentLocator(org.xml.sax.Locator locator) {
      this.locator = locator;
      super.setDocumentLocator(locator);
    }

    @Override
    public void startElement(String uri, String local, String qName, org.xml.sax.Attributes atts) throws SAXException {
      if (++depth > MAX_DEPTH) {
        throw new SAXParseException("elements nested deeper than " + MAX_DEPTH + " levels", locator);
      }
      super.startElement(uri, local, qName, atts);
    }

    @Override
    public void endElement(String uri, String local, String qName) throws SAXException {
      depth--;
      super.endElement(uri, local, qName);
    }
  }

  private static Document dom(byte[] xml, String resource) throws CheckpointXmlException {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      f.setAttribute(JDK_MAX_DEPTH, String.valueOf(2 * MAX_DEPTH));
      DocumentBuilder b = f.newDocumentBuilder();
      b.setEntityResolver((publicId, systemId) -> {
        throw new SAXException("external resource '" + systemId + "' refused");
      });
      b.setErrorHandler(null);
      return b.parse(new ByteArrayInputStream(xml));
    } catch (SAXParseException e) {
      throw new CheckpointXmlException(resource, e.getLineNumber(), e.getColumnNumber(), e.getMessage());
    } catch (SAXException | IOException | ParserConfigurationException e) {
      throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ interpretation

  private static Checkpoint interpret(Element root, String text, String resource, Set<ParseOption> options)
      throws CheckpointXmlException {
    Optional<String> name = childText(root, "name");
    if (name.isEmpty()) {
      throw new CheckpointXmlException(resource, 0, 0, "a redefined checkpoint needs a <name>");
    }
    Optional<String> created = childText(root, "creationTime");
    if (created.isEmpty()) {
      throw new CheckpointXmlException(resource, 0, 0, "a redefined checkpoint needs a <creationTime>");
    }
    long creationTime = parseNumber(created.get(), "creationTime", resource);
    Checkpoint.Builder b = Checkpoint.builder().name(name.get()).creationTime(creationTime);
    childText(root, "description").ifPresent(b::description);
    Element parent = child(root, "parent");
    if (parent != null) {
      childText(parent, "name").ifPresent(b::parentName);
    }
    Element domain = child(root, "domain");
    if (domain == null && !options.contains(ParseOption.ALLOW_MISSING_DOMAIN)) {
      throw new CheckpointXmlException(resource, 0, 0,
          "a redefined checkpoint needs its <domain> (use the option that allows a missing domain for libvirt's NO_DOMAIN form)");
    }
    if (domain != null) {
      b.domain(domainDefinition(domain, text, resource));
    }
    List<CheckpointDisk> listed = new ArrayList<>();
    Element disks = child(root, "disks");
    if (disks != null) {
      for (Element d : children(disks, "disk")) {
        CheckpointType type = d.hasAttribute("checkpoint")
            ? CheckpointType.fromXmlName(d.getAttribute("checkpoint")) : CheckpointType.BITMAP;
        Optional<String> bitmap = d.hasAttribute("bitmap") ? Optional.of(d.getAttribute("bitmap")) : Optional.empty();
        OptionalLong size = d.hasAttribute("size")
            ? OptionalLong.of(parseNumber(d.getAttribute("size"), "disk size", resource)) : OptionalLong.empty();
        try {
          listed.add(CheckpointDisk.of(d.getAttribute("name"), type, bitmap, size));
        } catch (IllegalArgumentException e) {
          throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
        }
      }
    }
    List<CheckpointDisk> aligned = domain == null
        ? DiskAlignment.defaultBitmaps(listed, name.get())
        : DiskAlignment.align(listed, b.build().domain().orElseThrow(), name.get(), resource);
    b.disks(aligned);
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
    }
  }

  private static long parseNumber(String s, String what, String resource) throws CheckpointXmlException {
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

  private static DomainDefinition domainDefinition(Element domain, String text, String resource)
      throws CheckpointXmlException {
    List<DomainDisk> disks = new ArrayList<>();
    Element devices = child(domain, "devices");
    if (devices != null) {
      for (Element d : children(devices, "disk")) {
        Element target = child(d, "target");
        if (target == null || target.getAttribute("dev").isEmpty()) {
          continue;
        }
        Element source = child(d, "source");
        Optional<String> src = Optional.empty();
        if (source != null) {
          for (String attr : new String[] {"file", "dev", "name", "volume"}) {
            if (source.hasAttribute(attr)) {
              src = Optional.of(source.getAttribute(attr));
              break;
            }
          }
        }
        Element driver = child(d, "driver");
        Optional<String> driverType = driver != null && driver.hasAttribute("type")
            ? Optional.of(driver.getAttribute("type")) : Optional.empty();
        String device = d.hasAttribute("device") ? d.getAttribute("device") : "disk";
        disks.add(new DomainDisk(target.getAttribute("dev"), src, driverType, device,
            child(d, "readonly") != null, src.isEmpty()));
      }
    }
    return new DomainDefinition(domainText(text, resource), domain.getAttribute("type"),
        childText(domain, "name").orElse(""), childText(domain, "uuid"), disks);
  }

  /** The {@code <domain>} element's text as written, de-indented to a top-level document. */
  private static String domainText(String text, String resource) throws CheckpointXmlException {
    int start = -1;
    for (int i = text.indexOf("<domain"); i >= 0; i = text.indexOf("<domain", i + 1)) {
      char next = i + 7 < text.length() ? text.charAt(i + 7) : ' ';
      if (Character.isWhitespace(next) || next == '>' || next == '/') {
        start = i;
        break;
      }
    }
    int end = text.lastIndexOf("</domain>");
    if (start < 0) {
      throw new CheckpointXmlException(resource, 0, 0, "cannot locate the <domain> element's text");
    }
    String element;
    if (end < start) { // <domain .../>
      element = text.substring(start, text.indexOf("/>", start) + 2);
    } else {
      element = text.substring(start, end + "</domain>".length());
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

  private static Element child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getLocalName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    NodeList nl = parent.getChildNodes();
    for (int i = 0; i < nl.getLength(); i++) {
      if (nl.item(i) instanceof Element e && e.getLocalName().equals(name)) {
        out.add(e);
      }
    }
    return out;
  }

  private static Optional<String> childText(Element parent, String name) {
    Element e = child(parent, name);
    return e == null ? Optional.empty() : Optional.of(e.getTextContent());
  }

  // ------------------------------------------------------------------ formatting

  /** Formats a checkpoint exactly as libvirt's {@code virsh checkpoint-dumpxml} would. */
  public static String format(Checkpoint c, Set<FormatFlag> flags) {
    StringBuilder out = new StringBuilder();
    out.append("<domaincheckpoint>\n");
    out.append("  <name>").append(escape(c.name())).append("</name>\n");
    c.description().ifPresent(d -> out.append("  <description>").append(escape(d)).append("</description>\n"));
    c.parentName().ifPresent(p -> out.append("  <parent>\n    <name>").append(escape(p)).append("</name>\n  </parent>\n"));
    if (c.creationTime() != 0) {
      out.append("  <creationTime>").append(c.creationTime()).append("</creationTime>\n");
    }
    if (!c.disks().isEmpty()) {
      out.append("  <disks>\n");
      for (CheckpointDisk d : c.disks()) {
        out.append("    <disk name='").append(escape(d.name())).append("' checkpoint='").append(d.type().xmlName()).append('\'');
        d.bitmap().ifPresent(bm -> out.append(" bitmap='").append(escape(bm)).append('\''));
        if (flags.contains(FormatFlag.SIZE) && d.size().isPresent()) {
          out.append(" size='").append(d.size().getAsLong()).append('\'');
        }
        out.append("/>\n");
      }
      out.append("  </disks>\n");
    }
    if (!flags.contains(FormatFlag.NO_DOMAIN)) {
      c.domain().ifPresent(d -> {
        for (String line : d.xml().split("\n", -1)) {
          out.append("  ").append(line).append('\n');
        }
      });
    }
    out.append("</domaincheckpoint>\n");
    return out.toString();
  }

  /** {@link #format} with no flags. */
  public static String format(Checkpoint c) {
    return format(c, EnumSet.noneOf(FormatFlag.class));
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
