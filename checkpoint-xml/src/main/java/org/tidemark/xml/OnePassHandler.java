package org.tidemark.xml;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.xml.sax.Attributes;
import org.xml.sax.ContentHandler;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * One SAX pass over a document feeding several consumers at once: the document's grammar validator,
 * validators for named child subtrees of the root (libvirt's grammars for the embedded
 * {@code <domain>} and a snapshot's {@code <inactiveDomain>}), and a tree of {@link XmlElement}s
 * for interpretation. Reading the bytes once is what keeps parsing close to the cost of validation
 * alone. A subtree validator sees only a root child that has attributes: libvirt's
 * {@code <domain>} grammar requires a {@code type}, and the attribute-less {@code <domain>} of old
 * snapshots (only a {@code <uuid>}) is the document grammar's business.
 *
 * <p>Only elements, attributes and text reach the tree (no comments or processing instructions);
 * text outside the root element is dropped. Not thread-safe; one per parse.
 */
final class OnePassHandler extends DefaultHandler {
  private final ContentHandler grammar;
  private final Map<String, ContentHandler> subtrees;
  private ContentHandler subtree;
  private final List<XmlElement> open = new ArrayList<>();
  private XmlElement root;
  private final List<String[]> pendingPrefixes = new ArrayList<>();
  private Locator locator;
  private int depth;
  private int subtreeDepth;

  /**
   * @param grammar the document validator's handler
   * @param subtrees the subtree validators' handlers by the local name of the root's child each
   *     validates (none when empty)
   */
  OnePassHandler(ContentHandler grammar, Map<String, ContentHandler> subtrees) {
    this.grammar = grammar;
    this.subtrees = subtrees;
  }

  /** The root element, once the document was read. */
  XmlElement root() {
    return root;
  }

  @Override
  public void setDocumentLocator(Locator locator) {
    this.locator = locator;
    grammar.setDocumentLocator(locator);
  }

  @Override
  public void startDocument() throws SAXException {
    grammar.startDocument();
  }

  @Override
  public void endDocument() throws SAXException {
    grammar.endDocument();
  }

  @Override
  public void startPrefixMapping(String prefix, String uri) throws SAXException {
    grammar.startPrefixMapping(prefix, uri);
    if (subtreeDepth > 0) {
      subtree.startPrefixMapping(prefix, uri);
    } else {
      pendingPrefixes.add(new String[] {prefix, uri});
    }
  }

  @Override
  public void endPrefixMapping(String prefix) throws SAXException {
    grammar.endPrefixMapping(prefix);
    if (subtreeDepth > 0) {
      subtree.endPrefixMapping(prefix);
    }
  }

  @Override
  public void startElement(String uri, String local, String qName, Attributes atts) throws SAXException {
    depth++;
    grammar.startElement(uri, local, qName, atts);
    if (subtreeDepth > 0) {
      subtreeDepth++;
      subtree.startElement(uri, local, qName, atts);
    } else if (depth == 2 && atts.getLength() > 0 && subtrees.containsKey(local)) {
      subtree = subtrees.get(local);
      subtreeDepth = 1;
      subtree.setDocumentLocator(locator);
      subtree.startDocument();
      for (String[] p : pendingPrefixes) {
        subtree.startPrefixMapping(p[0], p[1]);
      }
      subtree.startElement(uri, local, qName, atts);
    }
    pendingPrefixes.clear();
    int n = atts.getLength();
    String[] pairs = new String[2 * n];
    for (int i = 0; i < n; i++) {
      pairs[2 * i] = atts.getLocalName(i).isEmpty() ? atts.getQName(i) : atts.getLocalName(i);
      pairs[2 * i + 1] = atts.getValue(i);
    }
    XmlElement e = new XmlElement(local.isEmpty() ? qName : local, pairs,
        locator == null ? 0 : locator.getLineNumber(), locator == null ? 0 : locator.getColumnNumber());
    if (open.isEmpty()) {
      root = e;
    } else {
      open.get(open.size() - 1).add(e);
    }
    open.add(e);
  }

  @Override
  public void endElement(String uri, String local, String qName) throws SAXException {
    depth--;
    grammar.endElement(uri, local, qName);
    if (subtreeDepth > 0) {
      subtree.endElement(uri, local, qName);
      if (--subtreeDepth == 0) {
        subtree.endDocument();
      }
    }
    open.remove(open.size() - 1);
  }

  @Override
  public void characters(char[] ch, int start, int length) throws SAXException {
    grammar.characters(ch, start, length);
    if (subtreeDepth > 0) {
      subtree.characters(ch, start, length);
    }
    if (!open.isEmpty()) {
      open.get(open.size() - 1).appendText(ch, start, length);
    }
  }

  @Override
  public void ignorableWhitespace(char[] ch, int start, int length) throws SAXException {
    characters(ch, start, length);
  }
}
