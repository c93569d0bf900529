package org.tidemark.cli;

/**
 * Makes text safe to print on a terminal: every control character (C0, DEL, C1) of a string that
 * came from a file — an archive's manifest, a checkpoint document, a file name — is shown as
 * {@code \xNN} instead of being sent to the terminal, where an escape sequence could move the
 * cursor, rewrite earlier lines or retitle the window. Every human-readable line the command prints
 * with such a string goes through {@link #escape}; JSON output escapes by JSON's rules instead.
 */
final class Printable {
  private Printable() {}

  /** {@code text} with each control character as {@code \xNN}; the same string when it has none. */
  static String escape(String text) {
    if (text == null) {
      return null;
    }
    int i = 0;
    while (i < text.length() && !isControl(text.charAt(i))) {
      i++;
    }
    if (i == text.length()) {
      return text;
    }
    StringBuilder b = new StringBuilder(text.length() + 8).append(text, 0, i);
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      if (isControl(c)) {
        b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * The width of a text column holding {@code values} as {@link #escape} prints them: the longest,
   * at least {@code minimum}, so that the columns after it line up under their headers.
   */
  static int width(int minimum, java.util.stream.Stream<?> values) {
    return Math.max(minimum, values.mapToInt(v -> escape(v).length()).max().orElse(0));
  }

  /** {@link #escape} of {@code String.valueOf(value)}. */
  static String escape(Object value) {
    return value == null ? null : escape(String.valueOf(value));
  }

  /** C0 controls (tab and newline included: a line stays one line), DEL and C1 controls. */
  static boolean isControl(char c) {
    return c < 0x20 || c >= 0x7f && c <= 0x9f;
  }
}
