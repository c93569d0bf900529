package org.tidemark.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import org.tidemark.internal.JsonText;

/** The JSON writer of the command line: pretty, one document per command, stable key order. */
final class Json {
  private Json() {}

  /**
   * Writes one document and a newline, then flushes. The document is made of maps, lists, arrays,
   * strings, numbers, booleans and nulls.
   */
  static void print(PrintWriter out, Object document) {
    out.println(new String(JsonText.write(document), StandardCharsets.UTF_8));
    out.flush();
  }
}
