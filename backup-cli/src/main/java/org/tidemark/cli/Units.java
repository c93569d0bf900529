package org.tidemark.cli;

import java.util.Locale;

/** Human-readable sizes for text output. */
final class Units {
  private Units() {}

  /** Bytes in binary units with one decimal: {@code 3.5 MiB}. */
  static String bytes(long n) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = n;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? n + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
