package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GNU tar's own map of an archive, as ground truth for the places errors name: each entry's name,
 * size and the 512-byte block its header starts at ({@code tar -tvR}). Made only of archives whose
 * entries have one plain ustar header each (checked: every entry's data ends, padded, where tar
 * finds the next header), so an entry's data starts one record after its header.
 */
record TarBlocks(List<TarBlocks.Entry> entries, long end) {
  private static final Pattern LINE = Pattern.compile("^block (\\d+): \\S+ \\S+\\s+(\\d+) \\S+ \\S+ (.+)$");
  private static final Pattern END = Pattern.compile("^block (\\d+): \\*\\* Block of NULs \\*\\*$");

  /**
   * One entry as tar lists it.
   *
   * @param name its name
   * @param block the 512-byte block its header starts at
   * @param size its data size
   */
  record Entry(String name, long block, long size) {
    /** The byte offset of its header. */
    long header() {
      return 512 * block;
    }

    /** The byte offset of its data (a plain ustar entry: one header record). */
    long data() {
      return header() + 512;
    }

    /** Where the next header starts: its data, padded to whole records. */
    long next() {
      return data() + (size + 511) / 512 * 512;
    }

    /** The disk of a chunk entry ({@code disks/DISK/OFFSET.EXT}). */
    String disk() {
      return name.split("/")[1];
    }

    /** The guest offset of a chunk entry, from the 16 hex digits of its name. */
    long guestOffset() {
      String file = name.split("/")[2];
      return Long.parseLong(file.substring(0, file.indexOf('.')), 16);
    }
  }

  /** Lists {@code archive} with GNU tar; {@code end} is the offset of its end-of-archive records. */
  static TarBlocks of(Path archive) throws Exception {
    Process p = new ProcessBuilder("tar", "-tvR", "-f", archive.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "tar finished");
    assertEquals(0, p.exitValue(), out);
    List<Entry> entries = new ArrayList<>();
    long end = -1;
    for (String line : out.lines().toList()) {
      Matcher m = LINE.matcher(line);
      Matcher e = END.matcher(line);
      if (m.matches()) {
        entries.add(new Entry(m.group(3), Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
      } else if (e.matches()) {
        end = 512 * Long.parseLong(e.group(1));
      } else {
        throw new AssertionError("unexpected line of tar -tvR: " + line);
      }
    }
    for (int i = 0; i < entries.size(); i++) {
      long next = i + 1 < entries.size() ? entries.get(i + 1).header() : end;
      assertEquals(next, entries.get(i).next(), "one plain ustar header per entry: " + entries.get(i));
    }
    return new TarBlocks(List.copyOf(entries), end);
  }

  /** The entry named {@code name}. */
  Entry get(String name) {
    return entries.stream().filter(e -> e.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("tar lists no " + name + ": " + entries));
  }

  /** The entries of chunks, in archive order. */
  List<Entry> chunks() {
    return entries.stream().filter(e -> e.name().startsWith("disks/")).toList();
  }

  /** The entry whose header, data or padding holds byte {@code offset}; null for the end-of-archive records. */
  Entry containing(long offset) {
    for (Entry e : entries) {
      if (offset >= e.header() && offset < e.next()) {
        return e;
      }
    }
    return null;
  }
}
