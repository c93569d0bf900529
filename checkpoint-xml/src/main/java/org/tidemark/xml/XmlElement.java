package org.tidemark.xml;

import java.util.ArrayList;
import java.util.List;

/**
 * A read-only element of a parsed document: its local name, attributes, child elements and text.
 * Lighter than a DOM (built in the same SAX pass as validation, several times cheaper) and with the
 * few accessors interpretation needs, named as the DOM names them. Package-private.
 */
final class XmlElement {
  private final String localName;
  private final String[] attributes; // name, value, name, value...
  private final List<XmlElement> children = new ArrayList<>(4);
  private final StringBuilder text = new StringBuilder();
  private final int line;
  private final int column;

  XmlElement(String localName, String[] attributes) {
    this(localName, attributes, 0, 0);
  }

  /** An element whose start tag ends at {@code line} and {@code column} (1-based; 0 when unknown). */
  XmlElement(String localName, String[] attributes, int line, int column) {
    this.localName = localName;
    this.attributes = attributes;
    this.line = line;
    this.column = column;
  }

  /** The line where the start tag ends, 0 when unknown. */
  int line() {
    return line;
  }

  /** The column where the start tag ends, 0 when unknown. */
  int column() {
    return column;
  }

  String getLocalName() {
    return localName;
  }

  /** The attribute's value, or the empty string when absent (as the DOM gives it). */
  String getAttribute(String name) {
    for (int i = 0; i < attributes.length; i += 2) {
      if (attributes[i].equals(name)) {
        return attributes[i + 1];
      }
    }
    return "";
  }

  boolean hasAttribute(String name) {
    for (int i = 0; i < attributes.length; i += 2) {
      if (attributes[i].equals(name)) {
        return true;
      }
    }
    return false;
  }

  /** The child elements, in document order. */
  List<XmlElement> elements() {
    return children;
  }

  /** The text of this element and all its descendants, in document order (as the DOM gives it). */
  String getTextContent() {
    if (children.isEmpty()) {
      return text.toString();
    }
    StringBuilder all = new StringBuilder();
    appendText(all);
    return all.toString();
  }

  private void appendText(StringBuilder out) {
    // text is kept per element as one run; interleaving with children does not matter for the
    // leaf elements libvirt documents put text in
    out.append(text);
    for (XmlElement c : children) {
      c.appendText(out);
    }
  }

  void add(XmlElement child) {
    children.add(child);
  }

  void appendText(char[] ch, int start, int length) {
    text.append(ch, start, length);
  }
}
