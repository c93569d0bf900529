package org.tidemark.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * JSON as plain Java values, through Jackson's streaming API.
 *
 * <p>Values are {@code Map<String, Object>} (key order kept), {@code List<Object>}, {@code String},
 * {@code Long} or {@code BigInteger}, {@code Boolean} and {@code null}. Tidemark's documents hold no
 * fractions; a number with a fraction or exponent is refused when read. Duplicate keys are refused.
 *
 * <p>Why not Jackson's data binding: its reflection costs about half a second at the start of every
 * {@code tidemark} run; these documents are small and their shapes are mapped by hand where they
 * are read ({@link JsonObject}).
 *
 * <p>Written documents are indented as Jackson's default pretty printer does ({@code "key" : value},
 * two spaces per level).
 */
public final class JsonText {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
      .build();

  private JsonText() {}

  /** A document that is not JSON, or not of the shape expected; the message says where and why. */
  public static final class JsonShapeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A problem at {@code where} (a JSON path such as {@code disks[0].name}, or a line and column). */
    public JsonShapeException(String where, String problem) {
      super(where.isEmpty() ? problem : where + ": " + problem);
    }
  }

  /**
   * Parses one JSON document into plain values; nothing may follow it but white space. The bytes
   * are read as UTF-8, strictly (what Tidemark writes): never left to the parser to guess, which
   * could take a mangled document for UTF-16 or UTF-32.
   */
  public static Object parse(byte[] json) throws JsonShapeException {
    java.io.Reader utf8 = new java.io.InputStreamReader(new java.io.ByteArrayInputStream(json),
        java.nio.charset.StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT));
    try (JsonParser p = FACTORY.createParser(utf8)) {
      if (p.nextToken() == null) {
        throw new JsonShapeException("", "empty document");
      }
      Object v = value(p);
      if (p.nextToken() != null) {
        throw new JsonShapeException(at(p), "data after the end of the document");
      }
      return v;
    } catch (JsonProcessingException e) { // malformed, or beyond the nesting limit
      throw new JsonShapeException(at(e), e.getOriginalMessage());
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new JsonShapeException("", "not UTF-8 text: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // reading a byte array does not fail otherwise
    }
  }

  /** Parses a document that must be an object, for reading by field. */
  public static JsonObject parseObject(byte[] json) throws JsonShapeException {
    Object v = parse(json);
    if (!(v instanceof Map<?, ?>)) {
      throw new JsonShapeException("", "expected an object, found " + JsonObject.kind(v));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    return new JsonObject("", m);
  }

  private static Object value(JsonParser p) throws IOException, JsonShapeException {
    JsonToken t = p.currentToken();
    switch (t) {
      case START_OBJECT -> {
        Map<String, Object> m = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          m.put(name, value(p));
        }
        return m;
      }
      case START_ARRAY -> {
        List<Object> l = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          l.add(value(p));
        }
        return l;
      }
      case VALUE_STRING -> {
        return p.getText();
      }
      case VALUE_NUMBER_INT -> {
        return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue() : (Object) p.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> throw new JsonShapeException(at(p), "number " + p.getText() + " is not an integer");
      case VALUE_TRUE -> {
        return Boolean.TRUE;
      }
      case VALUE_FALSE -> {
        return Boolean.FALSE;
      }
      case VALUE_NULL -> {
        return null;
      }
      default -> throw new JsonShapeException(at(p), "unexpected " + t);
    }
  }

  private static String at(JsonParser p) {
    return at(p.currentTokenLocation());
  }

  private static String at(JsonProcessingException e) {
    return at(e.getLocation());
  }

  private static String at(JsonLocation loc) {
    return loc == null ? "" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
  }

  /**
   * Writes plain values as an indented document: maps (keys as their {@code toString}), collections,
   * arrays, strings, numbers, booleans, {@code null} and {@link Optional} (its value or {@code null}).
   *
   * @throws IllegalArgumentException for any other type
   */
  public static byte[] write(Object document) {
    return write(document, true);
  }

  /**
   * Writes plain values as {@link #write(Object)} does, on one line when {@code indented} is false
   * (one document per line: JSON Lines).
   */
  public static byte[] write(Object document, boolean indented) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      if (indented) {
        g.useDefaultPrettyPrinter();
      }
      write(g, document);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // writing to memory does not fail
    }
    return out.toByteArray();
  }

  private static void write(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      g.writeNumber(((Number) v).longValue());
    } else if (v instanceof BigInteger b) {
      g.writeNumber(b);
    } else if (v instanceof Double || v instanceof Float) {
      g.writeNumber(((Number) v).doubleValue());
    } else if (v instanceof Optional<?> o) {
      write(g, o.orElse(null));
    } else if (v instanceof Map<?, ?> m) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        write(g, e.getValue());
      }
      g.writeEndObject();
    } else if (v instanceof Collection<?> c) {
      g.writeStartArray();
      for (Object o : c) {
        write(g, o);
      }
      g.writeEndArray();
    } else if (v.getClass().isArray()) {
      g.writeStartArray();
      for (int i = 0, n = Array.getLength(v); i < n; i++) {
        write(g, Array.get(v, i));
      }
      g.writeEndArray();
    } else {
      throw new IllegalArgumentException("no JSON form for " + v.getClass().getName());
    }
  }
}
