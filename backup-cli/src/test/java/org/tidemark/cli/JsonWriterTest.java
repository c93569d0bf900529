package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The command line's own JSON writer (it no longer borrows the engine's internal one) writes every
 * document byte for byte as the engine's writer did on one line (the JSON outputs were
 * written with it until now), and as Jackson's data binding does for the same values.
 */
class JsonWriterTest {
  @Test
  void aDocumentOfEveryKindOfValue() {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("command", "backup");
    doc.put("exitCode", 0);
    doc.put("bytes", 1L << 40);
    doc.put("big", new BigInteger("123456789012345678901234567890"));
    doc.put("ok", true);
    doc.put("parent", null);
    doc.put("checkpoint", Optional.of("cp2"));
    doc.put("base", Optional.empty());
    doc.put("sizes", new long[] {1, 2});
    doc.put("warnings", List.of("a \"quoted\"\tline", "\u00e9\u4e2d", "\ud83d\ude00"));
    doc.put("nested", Map.of("k", List.of(Map.of())));
    assertEquals("{\"command\":\"backup\",\"exitCode\":0,\"bytes\":1099511627776,"
        + "\"big\":123456789012345678901234567890,\"ok\":true,\"parent\":null,\"checkpoint\":\"cp2\","
        + "\"base\":null,\"sizes\":[1,2],\"warnings\":[\"a \\\"quoted\\\"\\tline\",\"\u00e9\u4e2d\",\"\\uD83D\\uDE00\"],"
        + "\"nested\":{\"k\":[{}]}}", Json.json(doc));
    assertEquals(jacksonDataBinding(doc), Json.json(doc));
  }

  /** Seeded random documents: the same bytes as the engine's writer on one line, and as data binding (before {@link Json#line} escapes DEL and C1 controls for terminals). */
  @ParameterizedTest
  @MethodSource("seeds")
  void randomDocumentsAreWrittenAsBefore(long seed) {
    Object doc = randomValue(new SplittableRandom(seed), 0);
    String written = Json.json(doc);
    assertEquals(new String(org.tidemark.internal.JsonText.write(doc, false), StandardCharsets.UTF_8), written);
    assertEquals(jacksonDataBinding(doc), written);
  }

  static Stream<Long> seeds() {
    return Stream.iterate(1L, s -> s + 1).limit(200);
  }

  @Test
  void aValueWithNoJsonFormIsRefusedByItsType() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.json(Map.of("x", new Object())));
    assertEquals("no JSON form for java.lang.Object", e.getMessage());
  }

  private static String jacksonDataBinding(Object doc) {
    try {
      return new String(new ObjectMapper().writeValueAsBytes(plain(doc)), StandardCharsets.UTF_8);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }

  /** Optionals as their values, for data binding (which writes an Optional as an object without a module). */
  private static Object plain(Object v) {
    if (v instanceof Optional<?> o) {
      return plain(o.orElse(null));
    } else if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, plain(x)));
      return out;
    } else if (v instanceof List<?> l) {
      List<Object> out = new ArrayList<>();
      l.forEach(x -> out.add(plain(x)));
      return out;
    }
    return v;
  }

  private static Object randomValue(SplittableRandom r, int depth) {
    int kind = r.nextInt(depth > 3 ? 6 : 9);
    switch (kind) {
      case 0: return null;
      case 1: return r.nextBoolean();
      case 2: return r.nextLong();
      case 3: return r.nextInt();
      case 4: return randomString(r);
      case 5: return BigInteger.valueOf(r.nextLong()).multiply(BigInteger.valueOf(Long.MAX_VALUE));
      case 6: {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          m.put(randomString(r), randomValue(r, depth + 1));
        }
        return m;
      }
      case 7: {
        List<Object> l = new ArrayList<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          l.add(randomValue(r, depth + 1));
        }
        return l;
      }
      default: return Optional.ofNullable(r.nextBoolean() ? null : randomString(r));
    }
  }

  /** Any characters but lone surrogates: ASCII, controls, DEL, C1, Latin, CJK, and pairs. */
  private static String randomString(SplittableRandom r) {
    StringBuilder b = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      int cp = switch (r.nextInt(5)) {
        case 0 -> r.nextInt(0x20);
        case 1 -> 0x20 + r.nextInt(0x60);
        case 2 -> 0x7f + r.nextInt(0x100);
        case 3 -> 0x4e00 + r.nextInt(0x100);
        default -> 0x1f600 + r.nextInt(0x40);
      };
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

}
