package org.tidemark.store;

/** The names an {@link ArchiveStore} takes. */
public final class StoreNames {
  private StoreNames() {}

  /**
   * Checks a name: relative, {@code /}-separated, no empty, {@code .}, {@code ..} or hidden
   * segment, no NUL.
   *
   * @return the name
   * @throws IllegalArgumentException naming the name and what is wrong
   */
  public static String check(String name) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException("store name is empty");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("store name '" + name.replace("\0", "\\0") + "' holds a NUL");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty() || segment.startsWith(".")) {
        throw new IllegalArgumentException("store name '" + name + "' has "
            + (segment.isEmpty() ? "an empty segment" : "the hidden segment '" + segment + "'")
            + " (expected DIR/.../NAME, no segment empty or starting with '.')");
      }
    }
    return name;
  }

  /** Checks a prefix: empty, or a name or the start of one (a trailing {@code /} allowed). */
  public static String checkPrefix(String prefix) {
    if (prefix.isEmpty()) {
      return prefix;
    }
    check(prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix);
    return prefix;
  }
}
