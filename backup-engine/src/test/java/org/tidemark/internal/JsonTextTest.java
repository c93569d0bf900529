package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * The plain-value JSON layer: what it writes is what Python's json module reads (an outside parser),
 * and what it refuses, it refuses with the place and the reason.
 */
class JsonTextTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** A random document of the kinds Tidemark writes: objects, arrays, strings, longs, booleans, nulls. */
  private static Object randomValue(Random r, int depth) {
    int kind = depth > 3 ? r.nextInt(4) : r.nextInt(6);
    switch (kind) {
      case 0: {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(12); i > 0; i--) {
          int c = r.nextInt(5) == 0 ? r.nextInt(0x3000) : 0x20 + r.nextInt(0x5f);
          b.appendCodePoint(Character.isSurrogate((char) c) ? 'x' : c);
        }
        return b.toString();
      }
      case 1:
        return r.nextLong() >> r.nextInt(64);
      case 2:
        return r.nextBoolean();
      case 3:
        return null;
      case 4: {
        List<Object> l = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          l.add(randomValue(r, depth + 1));
        }
        return l;
      }
      default: {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          m.put("k" + i + "\"\\" + (char) ('a' + r.nextInt(26)), randomValue(r, depth + 1));
        }
        return m;
      }
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
  void whatItWritesPythonReadsAsTheSameValue(long seed) throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    Random r = new Random(seed);
    for (int i = 0; i < 6; i++) {
      doc.put("f" + i, randomValue(r, 0));
    }
    byte[] json = JsonText.write(doc);
    // Python parses our bytes and prints them back in its own canonical form; we parse that too
    Process p = new ProcessBuilder("python3", "-c",
        "import json,sys; print(json.dumps(json.load(sys.stdin), ensure_ascii=True, sort_keys=False))").start();
    p.getOutputStream().write(json);
    p.getOutputStream().close();
    byte[] pythons = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), err);
    assertEquals(doc, JsonText.parse(pythons), "seed " + seed);
    assertEquals(doc, JsonText.parse(json));
  }

  @Test
  void writesIndentedWithKeysInOrder() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", 1);
    m.put("a", List.of(true, "x"));
    m.put("n", null);
    assertEquals("{\n  \"b\" : 1,\n  \"a\" : [ true, \"x\" ],\n  \"n\" : null\n}",
        new String(JsonText.write(m), StandardCharsets.UTF_8));
    assertEquals("[ 1, 2 ]", new String(JsonText.write(new long[] {1, 2}), StandardCharsets.UTF_8));
    assertThrows(IllegalArgumentException.class, () -> JsonText.write(new Object()));
  }

  @Test
  void integersBeyondLongStayExact() throws Exception {
    assertEquals(new BigInteger("18446744073709551616"), JsonText.parse(utf8("18446744073709551616")));
    assertEquals(Long.MIN_VALUE, JsonText.parse(utf8("-9223372036854775808")));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"a\": 1, \"a\": 2}|Duplicate field 'a'",
      "{\"a\": 1.5}|number 1.5 is not an integer",
      "{\"a\": 1e3}|is not an integer",
      "{\"a\": 1} x|line 1, column",
      "{\"a\": 1} {}|data after the end of the document",
      "''|empty document",
      "{\"a\": [1, 2}|line 1, column",
      "{\"a\": \"unterminated}|line 1, column",
  })
  void malformedDocumentsAreRefusedWithWhereAndWhy(String json, String expected) {
    JsonShapeException e = assertThrows(JsonShapeException.class, () -> JsonText.parse(utf8(json.equals("''") ? "" : json)));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void deepNestingIsRefusedNotAStackOverflow() {
    String deep = "[".repeat(100_000) + "]".repeat(100_000);
    JsonShapeException e = assertThrows(JsonShapeException.class, () -> JsonText.parse(utf8(deep)));
    assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
  }

  @Test
  void fieldsAreReadStrictlyWithTheirPath() throws Exception {
    JsonObject o = JsonText.parseObject(utf8("{\"s\": \"x\", \"n\": 5, \"big\": 4294967296, \"b\": true, "
        + "\"list\": [{\"v\": 1}, {\"v\": \"two\"}], \"extra\": 0}"));
    assertEquals("x", o.string("s"));
    assertEquals(5, o.intValue("n"));
    assertEquals(4294967296L, o.longValue("big"));
    assertTrue(o.bool("b"));
    assertEquals("big: integer 4294967296 is out of range (at most 32 bits)",
        assertThrows(JsonShapeException.class, () -> o.intValue("big")).getMessage());
    assertEquals("s: expected an integer, found a string",
        assertThrows(JsonShapeException.class, () -> o.longValue("s")).getMessage());
    assertEquals("missing: missing (expected a string)",
        assertThrows(JsonShapeException.class, () -> o.string("missing")).getMessage());
    List<JsonObject> list = o.objects("list");
    assertEquals(1, list.get(0).longValue("v"));
    assertEquals("list[1].v: expected an integer, found a string",
        assertThrows(JsonShapeException.class, () -> list.get(1).longValue("v")).getMessage());
    assertEquals("extra: unknown field", assertThrows(JsonShapeException.class, o::done).getMessage());
    assertEquals("", JsonText.parseObject(utf8("{}")).path());
    assertEquals("expected an object, found an array",
        assertThrows(JsonShapeException.class, () -> JsonText.parseObject(utf8("[]"))).getMessage());
  }
}
