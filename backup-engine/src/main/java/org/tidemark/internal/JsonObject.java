package org.tidemark.internal;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * A JSON object being read field by field, strictly: a field of the wrong type, a missing one, or
 * (after {@link #done}) one nobody asked for is an error naming its path ({@code disks[1].extents[7].length}).
 */
public final class JsonObject {
  private final String path;
  private final Map<String, Object> fields;
  private final Set<String> read = new HashSet<>();

  JsonObject(String path, Map<String, Object> fields) {
    this.path = path;
    this.fields = fields;
  }

  /** Where this object is in its document ({@code disks[1]}; empty for the document itself). */
  public String path() {
    return path;
  }

  /** A required string. */
  public String string(String name) throws JsonShapeException {
    return require(name, String.class, "a string");
  }

  /** A required integer in the range of {@code long}. */
  public long longValue(String name) throws JsonShapeException {
    Object v = fields.get(name);
    if (v instanceof BigInteger) {
      throw new JsonShapeException(where(name), "integer " + v + " is out of range");
    }
    return require(name, Long.class, "an integer");
  }

  /** A required integer in the range of {@code int}. */
  public int intValue(String name) throws JsonShapeException {
    long v = longValue(name);
    if (v != (int) v) {
      throw new JsonShapeException(where(name), "integer " + v + " is out of range (at most 32 bits)");
    }
    return (int) v;
  }

  /** A required boolean. */
  public boolean bool(String name) throws JsonShapeException {
    return require(name, Boolean.class, "true or false");
  }

  /** An optional object: empty when the field is absent or {@code null}. */
  public Optional<JsonObject> optionalObject(String name) throws JsonShapeException {
    read.add(name);
    Object v = fields.get(name);
    return v == null ? Optional.empty() : Optional.of(object(name, where(name), v));
  }

  /** A required array of objects. */
  public List<JsonObject> objects(String name) throws JsonShapeException {
    List<?> l = require(name, List.class, "an array");
    List<JsonObject> out = new ArrayList<>(l.size());
    for (int i = 0; i < l.size(); i++) {
      String at = where(name) + "[" + i + "]";
      out.add(object(name, at, l.get(i)));
    }
    return out;
  }

  /** Fails when the object has a field none of the getters asked for. */
  public void done() throws JsonShapeException {
    for (String k : fields.keySet()) {
      if (!read.contains(k)) {
        throw new JsonShapeException(where(k), "unknown field");
      }
    }
  }

  private static JsonObject object(String name, String at, Object v) throws JsonShapeException {
    if (!(v instanceof Map<?, ?>)) {
      throw new JsonShapeException(at, "expected an object, found " + kind(v));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    return new JsonObject(at, m);
  }

  private <T> T require(String name, Class<T> type, String expected) throws JsonShapeException {
    read.add(name);
    if (!fields.containsKey(name)) {
      throw new JsonShapeException(where(name), "missing (expected " + expected + ")");
    }
    Object v = fields.get(name);
    if (!type.isInstance(v)) {
      throw new JsonShapeException(where(name), "expected " + expected + ", found " + kind(v));
    }
    return type.cast(v);
  }

  /** The path of this object's field {@code name} ({@code disks[0].kind}), for messages. */
  public String where(String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  static String kind(Object v) {
    if (v == null) {
      return "null";
    } else if (v instanceof String) {
      return "a string";
    } else if (v instanceof Boolean) {
      return "a boolean";
    } else if (v instanceof Number) {
      return "a number";
    } else if (v instanceof List) {
      return "an array";
    }
    return "an object";
  }
}
