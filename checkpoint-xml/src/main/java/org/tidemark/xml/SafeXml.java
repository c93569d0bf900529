package org.tidemark.xml;

import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.ContentHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.XMLReader;
import org.xml.sax.ext.DeclHandler;
import org.xml.sax.ext.LexicalHandler;
import org.xml.sax.helpers.XMLFilterImpl;

/**
 * Safe reading of libvirt XML documents: size and depth limits, UTF-8 only, external entities and
 * DTDs never loaded, the same depth limit on every JDK. Shared by checkpoints, snapshots and domains.
 *
 * <p>The encoding is checked on the bytes, before anything is decoded: a byte order mark or the
 * first bytes of UTF-16, UTF-32 or EBCDIC text, or an XML declaration naming any encoding but
 * UTF-8, is refused with the encoding named (libvirt writes UTF-8). The parser then reads the text
 * this class decoded, never the bytes, so it cannot pick another encoding of its own. DTDs are
 * refused by the parser itself ({@link Guard}): any declaration, entity reference, external
 * identifier or a DOCTYPE naming another element than the root, at the position the parser found
 * it; only a bare {@code <!DOCTYPE root>} is accepted, as libvirt accepts it. The JDK's entity
 * limits, set low, are a second line behind that.
 */
final class SafeXml {
  /** The largest document read, in bytes. */
  static final int MAX_BYTES = 16 << 20;
  /** The deepest element nesting accepted. */
  static final int MAX_DEPTH = 256;
  private static final String JDK_MAX_DEPTH = "http://www.oracle.com/xml/jaxp/properties/maxElementDepth";
  private static final String JDK_LIMITS = "http://www.oracle.com/xml/jaxp/properties/";
  /**
   * The JDK's entity limits, far below its defaults (64,000 expansions, 50,000,000 characters in
   * all): no entity is ever declared in an accepted document, so these only back up {@link Guard}.
   */
  static final Map<String, String> ENTITY_LIMITS = Map.of(
      JDK_LIMITS + "entityExpansionLimit", "64",
      JDK_LIMITS + "maxGeneralEntitySizeLimit", String.valueOf(1 << 20),
      JDK_LIMITS + "maxParameterEntitySizeLimit", String.valueOf(1 << 20),
      JDK_LIMITS + "totalEntitySizeLimit", String.valueOf(1 << 20));
  /** The entities every XML document has, which the parser may report as references. */
  private static final java.util.Set<String> PREDEFINED = java.util.Set.of("lt", "gt", "amp", "apos", "quot");
  private static final String DECL_HANDLER = "http://xml.org/sax/properties/declaration-handler";
  private static final String LEXICAL_HANDLER = "http://xml.org/sax/properties/lexical-handler";

  private static final org.xml.sax.EntityResolver REFUSE_EXTERNAL = (publicId, systemId) -> {
    throw new SAXException("external resource '" + systemId + "' refused");
  };

  /** A configured SAX reader per thread: factories are costly to find and not thread-safe. */
  private static final ThreadLocal<XMLReader> READERS = ThreadLocal.withInitial(() -> {
    try {
      SAXParserFactory f = SAXParserFactory.newInstance();
      f.setNamespaceAware(true);
      f.setXIncludeAware(false);
      secure(f);
      XMLReader reader = f.newSAXParser().getXMLReader();
      // the JDK's own depth limit differs between releases (none on 17, 100 on 25): set it above
      // ours so that the same documents are refused, with the same message, on every JDK
      reader.setProperty(JDK_MAX_DEPTH, String.valueOf(2 * MAX_DEPTH));
      for (Map.Entry<String, String> limit : ENTITY_LIMITS.entrySet()) {
        reader.setProperty(limit.getKey(), limit.getValue());
      }
      reader.setEntityResolver(REFUSE_EXTERNAL);
      return reader;
    } catch (SAXException | ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser cannot be configured safely: " + e.getMessage(), e);
    }
  });

  private SafeXml() {}

  /** The SAX reader of this thread, configured as every parse uses it (for tests). */
  static XMLReader reader() {
    return READERS.get();
  }

  /**
   * Checks the size and the encoding, and decodes; returns the document's text, which is what
   * the parse methods read.
   */
  static String read(byte[] xml, String resource) throws CheckpointXmlException {
    if (xml.length > MAX_BYTES) {
      throw new CheckpointXmlException(resource, 0, 0, "document of " + xml.length + " bytes is larger than the limit of " + MAX_BYTES);
    }
    requireUtf8(xml, resource);
    return decode(xml, resource);
  }

  /**
   * Refuses a document whose first bytes or XML declaration say it is not UTF-8, naming the
   * encoding found. An XML parser reading bytes picks UTF-16 or UTF-32 from the first four bytes
   * even without a byte order mark, where each ASCII character is also valid UTF-8 (with NULs).
   */
  static void requireUtf8(byte[] xml, String resource) throws CheckpointXmlException {
    String found = signature(xml);
    if (found != null) {
      throw new CheckpointXmlException(resource, 1, 1, "the document is " + found + "; only UTF-8 is read (libvirt writes UTF-8)");
    }
    int start = hasUtf8Bom(xml) ? 3 : 0;
    // an XML declaration: "<?xml" and white space (not a processing instruction such as <?xml-stylesheet)
    if (startsWith(xml, start, "<?xml") && xml.length > start + 5 && isXmlSpace(xml[start + 5])) {
      int end = start;
      while (end < xml.length - 1 && !(xml[end] == '?' && xml[end + 1] == '>')) {
        end++;
      }
      String decl = new String(xml, start, end - start, StandardCharsets.ISO_8859_1);
      java.util.regex.Matcher m = DECLARED_ENCODING.matcher(decl);
      if (m.find() && !m.group(2).equalsIgnoreCase("UTF-8")) {
        throw new CheckpointXmlException(resource, 1, 1 + m.start(2),
            "the document declares encoding '" + m.group(2) + "'; only UTF-8 is read (libvirt writes UTF-8)");
      }
    }
  }

  private static final java.util.regex.Pattern DECLARED_ENCODING =
      java.util.regex.Pattern.compile("\\sencoding\\s*=\\s*(['\"])([^'\"]*)\\1");

  /** The encoding the first bytes announce when it is not UTF-8 (or ASCII); null otherwise. */
  static String signature(byte[] x) {
    int n = x.length;
    int b0 = n > 0 ? x[0] & 0xff : -1;
    int b1 = n > 1 ? x[1] & 0xff : -1;
    int b2 = n > 2 ? x[2] & 0xff : -1;
    int b3 = n > 3 ? x[3] & 0xff : -1;
    if (b0 == 0 && b1 == 0 && b2 == 0xfe && b3 == 0xff) {
      return "UTF-32BE (byte order mark 00 00 FE FF)";
    }
    if (b0 == 0xff && b1 == 0xfe && b2 == 0 && b3 == 0) {
      return "UTF-32LE (byte order mark FF FE 00 00)";
    }
    if (b0 == 0xfe && b1 == 0xff) {
      return "UTF-16BE (byte order mark FE FF)";
    }
    if (b0 == 0xff && b1 == 0xfe) {
      return "UTF-16LE (byte order mark FF FE)";
    }
    if (b0 == 0 && b1 == 0) {
      return "UTF-32BE (no byte order mark: it starts with 00 00)";
    }
    if (b0 == 0) {
      return "UTF-16BE (no byte order mark: it starts with 00)";
    }
    if (b1 == 0 && b2 == 0 && b3 == 0) {
      return "UTF-32LE (no byte order mark: its first character is followed by 00 00 00)";
    }
    if (b1 == 0) {
      return "UTF-16LE (no byte order mark: its first character is followed by 00)";
    }
    if (b0 == 0x4c && b1 == 0x6f && b2 == 0xa7 && b3 == 0x94) {
      return "EBCDIC ('<?xm' in EBCDIC)";
    }
    return null;
  }

  private static boolean isXmlSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r';
  }

  private static boolean hasUtf8Bom(byte[] x) {
    return x.length >= 3 && (x[0] & 0xff) == 0xef && (x[1] & 0xff) == 0xbb && (x[2] & 0xff) == 0xbf;
  }

  private static boolean startsWith(byte[] x, int at, String ascii) {
    if (x.length - at < ascii.length()) {
      return false;
    }
    for (int i = 0; i < ascii.length(); i++) {
      if (x[at + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Decodes UTF-8, refusing malformed bytes; a byte order mark is dropped. */
  static String decode(byte[] xml, String resource) throws CheckpointXmlException {
    int skip = hasUtf8Bom(xml) ? 3 : 0;
    String fast = new String(xml, skip, xml.length - skip, StandardCharsets.UTF_8); // the JDK's fast path; replaces bad bytes
    if (fast.indexOf('\uFFFD') < 0) {
      return fast;
    }
    try { // a replacement character: either in the document or a malformed byte; tell which
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(xml, skip, xml.length - skip)).toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointXmlException(resource, 0, 0, "not valid UTF-8");
    }
  }

  /**
   * Parses {@code text} (from {@link #read}) safely in one pass: validates it with {@code checker},
   * validates the root's {@code <domain>} child with {@code domainChecker} when given, and builds
   * its element tree. The first error in document order is thrown; the root element is returned.
   */
  static XmlElement parseValidated(String xml, String resource, MomentSchema.Checker checker,
      MomentSchema.Checker domainChecker) throws CheckpointXmlException {
    return parse(xml, resource, checker,
        domainChecker == null ? Map.of() : Map.of("domain", domainChecker));
  }

  /**
   * Parses {@code text} (from {@link #read}) safely in one pass: validates it with {@code checker},
   * validates each root child named in {@code subtreeCheckers} with its checker, and builds its
   * element tree. The first error in document order is thrown; the root element is returned.
   */
  static XmlElement parseValidated(String xml, String resource, MomentSchema.Checker checker,
      Map<String, MomentSchema.Checker> subtreeCheckers) throws CheckpointXmlException {
    return parse(xml, resource, checker, subtreeCheckers);
  }

  /** Parses {@code xml} safely without validating it (for snapshots, where validation is opt-in). */
  static XmlElement parseUnvalidated(String xml, String resource) throws CheckpointXmlException {
    return parse(xml, resource, null, Map.of());
  }

  /**
   * Parses {@code xml} (from {@link #read}) safely into {@code handler}, guarded as every parse is
   * (depth limit, no DTD or entities); the first well-formedness error stops it. For readers that
   * need more of the document than the {@link XmlElement} tree keeps (namespace prefixes, text
   * between elements).
   */
  static void parseInto(String xml, String resource, ContentHandler handler) throws CheckpointXmlException {
    guardedParse(xml, resource, handler, new FatalErrors());
  }

  private static void guardedParse(String xml, String resource, ContentHandler handler, org.xml.sax.ErrorHandler errors)
      throws CheckpointXmlException {
    try {
      XMLReader reader = READERS.get();
      Guard guard = new Guard();
      guard.setParent(reader);
      reader.setProperty(DECL_HANDLER, guard);
      reader.setProperty(LEXICAL_HANDLER, guard);
      guard.setContentHandler(handler);
      guard.setErrorHandler(errors);
      // the decoded text, not the bytes: the parser reads what read() checked, in no other encoding
      InputSource in = new InputSource(new StringReader(xml));
      in.setSystemId(resource);
      guard.parse(in);
    } catch (SAXParseException e) {
      throw new CheckpointXmlException(resource, e.getLineNumber(), e.getColumnNumber(), e.getMessage());
    } catch (SAXException | IOException e) {
      throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
    }
  }

  private static XmlElement parse(String xml, String resource, MomentSchema.Checker checker,
      Map<String, MomentSchema.Checker> subtreeCheckers) throws CheckpointXmlException {
    Map<String, ContentHandler> subtrees = new HashMap<>();
    subtreeCheckers.forEach((name, c) -> subtrees.put(name, c.validator.getContentHandler()));
    OnePassHandler handler = new OnePassHandler(
        checker == null ? new org.xml.sax.helpers.DefaultHandler() : checker.validator.getContentHandler(), subtrees);
    guardedParse(xml, resource, handler, checker == null ? new FatalErrors() : checker);
    SAXParseException first = checker == null || checker.errors.isEmpty() ? null : checker.errors.get(0);
    SAXParseException firstSub = null;
    String firstSubName = null;
    for (Map.Entry<String, MomentSchema.Checker> e : subtreeCheckers.entrySet()) {
      if (!e.getValue().errors.isEmpty() && before(e.getValue().errors.get(0), firstSub)) {
        firstSub = e.getValue().errors.get(0);
        firstSubName = e.getKey();
      }
    }
    if (firstSub != null && before(firstSub, first)) {
      throw new CheckpointXmlException(resource, firstSub.getLineNumber(), firstSub.getColumnNumber(),
          "<" + firstSubName + "> does not match libvirt's " + firstSubName + " grammar: " + firstSub.getMessage());
    }
    if (first != null) {
      throw new CheckpointXmlException(resource, first.getLineNumber(), first.getColumnNumber(), first.getMessage());
    }
    return handler.root();
  }

  /** Whether {@code a} comes before {@code b} in the document ({@code b} null: yes). */
  private static boolean before(SAXParseException a, SAXParseException b) {
    return b == null || a.getLineNumber() < b.getLineNumber()
        || a.getLineNumber() == b.getLineNumber() && a.getColumnNumber() < b.getColumnNumber();
  }

  /** Well-formedness errors stop the parse; there is nothing else to report without a grammar. */
  private static final class FatalErrors extends org.xml.sax.helpers.DefaultHandler {
    @Override
    public void error(SAXParseException e) throws SAXException {
      throw e;
    }

    @Override
    public void fatalError(SAXParseException e) throws SAXException {
      throw e;
    }
  }

  static void secure(SAXParserFactory f) throws ParserConfigurationException, SAXException {
    f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://xml.org/sax/features/external-general-entities", false);
    f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
  }

  /**
   * Stops, inside the parser, a document nested deeper than {@link #MAX_DEPTH} and every use of a
   * DTD but a bare {@code <!DOCTYPE root>}: a declaration of any kind (element, attribute list,
   * entity, notation), an entity reference, an external identifier, or a DOCTYPE naming another
   * element than the root. Each is refused where the parser meets it, before an entity is expanded
   * or a default attribute applied; the parser's position is in the error.
   */
  static final class Guard extends XMLFilterImpl implements DeclHandler, LexicalHandler {
    private int depth;
    private String doctype;
    private org.xml.sax.Locator locator;

    private SAXParseException refuse(String what) {
      return new SAXParseException(what, locator);
    }

    private static String bare(String root) {
      return "only a bare <!DOCTYPE " + root + "> is allowed";
    }

    @Override
    public void setDocumentLocator(org.xml.sax.Locator locator) {
      this.locator = locator;
      super.setDocumentLocator(locator);
    }

    @Override
    public void startElement(String uri, String local, String qName, org.xml.sax.Attributes atts) throws SAXException {
      if (++depth > MAX_DEPTH) {
        throw refuse("elements nested deeper than " + MAX_DEPTH + " levels");
      }
      if (depth == 1 && doctype != null && !doctype.equals(qName)) {
        throw refuse("the DOCTYPE names <" + doctype + ">, the root is <" + qName + ">: " + bare(qName));
      }
      super.startElement(uri, local, qName, atts);
    }

    @Override
    public void endElement(String uri, String local, String qName) throws SAXException {
      depth--;
      super.endElement(uri, local, qName);
    }

    // ---------------------------------------------------------------- LexicalHandler

    @Override
    public void startDTD(String name, String publicId, String systemId) throws SAXException {
      if (publicId != null || systemId != null) {
        throw refuse("external DTDs are not allowed (" + (publicId != null ? "PUBLIC '" + publicId + "'" : "SYSTEM '" + systemId + "'")
            + "): " + bare(name));
      }
      doctype = name;
    }

    @Override
    public void endDTD() {}

    @Override
    public void startEntity(String name) throws SAXException {
      if (PREDEFINED.contains(name)) {
        return;
      }
      throw refuse("entity references are not allowed ('" + name + "')");
    }

    @Override
    public void endEntity(String name) {}

    @Override
    public void startCDATA() {}

    @Override
    public void endCDATA() {}

    @Override
    public void comment(char[] ch, int start, int length) {}

    // ---------------------------------------------------------------- DeclHandler, DTDHandler

    @Override
    public void elementDecl(String name, String model) throws SAXException {
      throw refuse("DTD declarations are not allowed (<!ELEMENT " + name + ">): " + bare(doctype));
    }

    @Override
    public void attributeDecl(String element, String attribute, String type, String mode, String value) throws SAXException {
      throw refuse("DTD declarations are not allowed (<!ATTLIST " + element + " " + attribute + ">): " + bare(doctype));
    }

    @Override
    public void internalEntityDecl(String name, String value) throws SAXException {
      throw refuse("entity declarations are not allowed (<!ENTITY " + name + ">): " + bare(doctype));
    }

    @Override
    public void externalEntityDecl(String name, String publicId, String systemId) throws SAXException {
      throw refuse("entity declarations are not allowed (<!ENTITY " + name + ">): " + bare(doctype));
    }

    @Override
    public void notationDecl(String name, String publicId, String systemId) throws SAXException {
      throw refuse("DTD declarations are not allowed (<!NOTATION " + name + ">): " + bare(doctype));
    }

    @Override
    public void unparsedEntityDecl(String name, String publicId, String systemId, String notation) throws SAXException {
      throw refuse("entity declarations are not allowed (<!ENTITY " + name + ">): " + bare(doctype));
    }
  }
}
