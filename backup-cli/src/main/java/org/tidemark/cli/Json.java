package org.tidemark.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The JSON writer of the command line: one document per command on one line (JSON Lines, so that a
 * nightly job can append to a log file), stable key order. Written with Jackson's streaming
 * generator (its data binding would cost a noticeable part of a second at every start).
 */
final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();

  private Json() {}

  /**
   * Writes one document and a newline, then flushes. The document is made of maps (keys as their
   * {@code toString}), collections, arrays, {@link Optional}s (their value or null), strings, whole
   * numbers, booleans and nulls. No control character is printed: JSON escapes C0's, and DEL and
   * C1's (which JSON allows raw, and a terminal may obey) are written as JSON escapes too.
   *
   * @throws IllegalArgumentException for a value of any other type
   */
  static void print(PrintWriter out, Object document) {
    out.println(line(document));
    out.flush();
  }

  /** The document as {@link #print} writes it, without the newline. */
  static String line(Object document) {
    return escapeDelAndC1(json(document));
  }

  /**
   * {@code document} as JSON on one line. Generated as UTF-8 bytes: Jackson's UTF-8 generator writes
   * a character beyond the Basic Multilingual Plane as its surrogate pair's escapes, which the
   * outputs have always held.
   */
  static String json(Object document) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
      value(g, document);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory does not fail
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static void value(JsonGenerator g, Object v) throws IOException {
    Object plain = v instanceof Optional<?> o ? o.orElse(null) : v;
    if (plain == null) {
      g.writeNull();
    } else if (plain instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        value(g, e.getValue());
      }
      g.writeEndObject();
    } else if (plain instanceof Collection<?> || plain.getClass().isArray()) {
      g.writeStartArray();
      for (Object item : items(plain)) {
        value(g, item);
      }
      g.writeEndArray();
    } else {
      scalar(g, plain);
    }
  }

  private static Collection<?> items(Object collectionOrArray) {
    if (collectionOrArray instanceof Collection<?> c) {
      return c;
    }
    int n = Array.getLength(collectionOrArray);
    List<Object> items = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      items.add(Array.get(collectionOrArray, i));
    }
    return items;
  }

  private static void scalar(JsonGenerator g, Object v) throws IOException {
    if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      g.writeNumber(((Number) v).longValue());
    } else if (v instanceof Double || v instanceof Float) {
      g.writeNumber(((Number) v).doubleValue());
    } else {
      throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
    }
  }

  /** {@code json} with DEL and the C1 controls as JSON escapes (they can only be inside strings). */
  static String escapeDelAndC1(String json) {
    StringBuilder b = null;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      boolean control = c >= 0x7f && c <= 0x9f;
      if (control && b == null) {
        b = new StringBuilder(json.length() + 16).append(json, 0, i);
      }
      if (control) {
        b.append(String.format("\\u%04x", (int) c));
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? json : b.toString();
  }
}
