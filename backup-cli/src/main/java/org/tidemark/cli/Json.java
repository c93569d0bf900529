package org.tidemark.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.tidemark.internal.JsonText;

/**
 * The JSON writer of the command line: one document per command on one line (JSON Lines, so that a
 * nightly job can append to a log file), stable key order.
 */
final class Json {
  private Json() {}

  /**
   * Writes one document and a newline, then flushes. The document is made of maps, lists, arrays,
   * strings, numbers, booleans and nulls. No control character is printed: JSON escapes C0's, and
   * DEL and C1's (which JSON allows raw, and a terminal may obey) are written as JSON escapes too.
   */
  static void print(PrintWriter out, Object document) {
    out.println(line(document));
    out.flush();
  }

  /** The document as {@link #print} writes it, without the newline. */
  static String line(Object document) {
    return escapeDelAndC1(new String(JsonText.write(document, false), StandardCharsets.UTF_8));
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
