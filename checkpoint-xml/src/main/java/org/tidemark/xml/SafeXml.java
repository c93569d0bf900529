package org.tidemark.xml;

import java.io.ByteArrayInputStream;
import java.io.IOException;
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
import org.xml.sax.helpers.XMLFilterImpl;

/**
 * Safe reading of libvirt XML documents: size and depth limits, UTF-8 checked, DTD internal subsets
 * and entity declarations refused before any parser sees them, external entities and DTDs never
 * loaded, and the same depth limit on every JDK. Shared by checkpoints and snapshots.
 */
final class SafeXml {
  /** The largest document read, in bytes. */
  static final int MAX_BYTES = 16 << 20;
  /** The deepest element nesting accepted. */
  static final int MAX_DEPTH = 256;
  private static final String JDK_MAX_DEPTH = "http://www.oracle.com/xml/jaxp/properties/maxElementDepth";

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
      reader.setEntityResolver(REFUSE_EXTERNAL);
      return reader;
    } catch (SAXException | ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser cannot be configured safely: " + e.getMessage(), e);
    }
  });

  private SafeXml() {}

  /** Checks the size, decodes, and refuses declarations; returns the document's text. */
  static String read(byte[] xml, String resource, String root) throws CheckpointXmlException {
    if (xml.length > MAX_BYTES) {
      throw new CheckpointXmlException(resource, 0, 0, "document of " + xml.length + " bytes is larger than the limit of " + MAX_BYTES);
    }
    String text = decode(xml, resource);
    refuseDeclarations(text, resource, root);
    return text;
  }

  static String decode(byte[] xml, String resource) throws CheckpointXmlException {
    String fast = new String(xml, StandardCharsets.UTF_8); // the JDK's fast path; replaces bad bytes
    if (fast.indexOf('\uFFFD') < 0) {
      return fast;
    }
    try { // a replacement character: either in the document or a malformed byte; tell which
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(xml)).toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointXmlException(resource, 0, 0, "not valid UTF-8");
    }
  }

  /** Refuses DTD internal subsets and entity declarations before any parser sees them. */
  static void refuseDeclarations(String text, String resource, String root) throws CheckpointXmlException {
    int doctype = text.indexOf("<!DOCTYPE");
    if (doctype >= 0) {
      int end = text.indexOf('>', doctype);
      String decl = end < 0 ? text.substring(doctype) : text.substring(doctype, end);
      if (!decl.replaceAll("\\s+", " ").trim().equals("<!DOCTYPE " + root)) {
        throw new CheckpointXmlException(resource, lineOf(text, doctype), 0,
            "DTD declarations are not allowed (only a bare <!DOCTYPE " + root + ">)");
      }
    }
    int entity = text.indexOf("<!ENTITY");
    if (entity >= 0) {
      throw new CheckpointXmlException(resource, lineOf(text, entity), 0, "entity declarations are not allowed");
    }
  }

  static int lineOf(String text, int index) {
    int line = 1;
    for (int i = 0; i < index; i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  /**
   * Parses {@code xml} safely in one pass: validates it with {@code checker}, validates the root's
   * {@code <domain>} child with {@code domainChecker} when given, and builds its element tree. The
   * first error in document order is thrown; the root element is returned.
   */
  static XmlElement parseValidated(byte[] xml, String resource, MomentSchema.Checker checker,
      MomentSchema.Checker domainChecker) throws CheckpointXmlException {
    return parse(xml, resource, checker,
        domainChecker == null ? Map.of() : Map.of("domain", domainChecker));
  }

  /**
   * Parses {@code xml} safely in one pass: validates it with {@code checker}, validates each root
   * child named in {@code subtreeCheckers} with its checker, and builds its element tree. The first
   * error in document order is thrown; the root element is returned.
   */
  static XmlElement parseValidated(byte[] xml, String resource, MomentSchema.Checker checker,
      Map<String, MomentSchema.Checker> subtreeCheckers) throws CheckpointXmlException {
    return parse(xml, resource, checker, subtreeCheckers);
  }

  /** Parses {@code xml} safely without validating it (for snapshots, where validation is opt-in). */
  static XmlElement parseUnvalidated(byte[] xml, String resource) throws CheckpointXmlException {
    return parse(xml, resource, null, Map.of());
  }

  private static XmlElement parse(byte[] xml, String resource, MomentSchema.Checker checker,
      Map<String, MomentSchema.Checker> subtreeCheckers) throws CheckpointXmlException {
    Map<String, ContentHandler> subtrees = new HashMap<>();
    subtreeCheckers.forEach((name, c) -> subtrees.put(name, c.validator.getContentHandler()));
    OnePassHandler handler = new OnePassHandler(
        checker == null ? new org.xml.sax.helpers.DefaultHandler() : checker.validator.getContentHandler(), subtrees);
    try {
      XMLReader reader = READERS.get();
      DepthLimit limit = new DepthLimit();
      limit.setParent(reader);
      limit.setContentHandler(handler);
      limit.setErrorHandler(checker == null ? new FatalErrors() : checker);
      InputSource in = new InputSource(new ByteArrayInputStream(xml));
      in.setSystemId(resource);
      limit.parse(in);
    } catch (SAXParseException e) {
      throw new CheckpointXmlException(resource, e.getLineNumber(), e.getColumnNumber(), e.getMessage());
    } catch (SAXException | IOException e) {
      throw new CheckpointXmlException(resource, 0, 0, e.getMessage());
    }
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

  /** Stops a document nested deeper than {@link #MAX_DEPTH}. */
  static final class DepthLimit extends XMLFilterImpl {
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


}
