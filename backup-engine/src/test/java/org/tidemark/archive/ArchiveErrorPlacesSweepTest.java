package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded sweep of damage over a whole real archive (zstd and stored chunks, data and zero
 * extents, two disks): a bit flipped, the file cut, or a 512-byte record zeroed at a random place.
 * Every archive error that opening, checking the tar headers and reading every chunk throw, and
 * every finding of verify, names where it is ({@link ArchiveException#where()} is never the bare
 * archive), and that place agrees with the damage: the entry that GNU tar lists around the damaged
 * byte, or a file offset inside that entry; a damaged checkpoint.xml, manifest.json or index.bin
 * may instead be named as the seal that no longer matches them; a cut file, at the cut (within the
 * three records before it) or as the entry cut or the seal missing.
 */
class ArchiveErrorPlacesSweepTest {
  private static final int SEEDS = 40;
  private static final List<String> SEALED = List.of("checkpoint.xml", "manifest.json", "index.bin", "seal.json");

  @TempDir static Path dir;
  private static byte[] sound;
  private static TarBlocks tar;
  private static int found;

  enum Damage { FLIP, CUT, ZERO_RECORD }

  @BeforeAll
  static void write() throws Exception {
    Path p = ArchiveFixtures.write(dir.resolve("sound.tar"), List.of(new ArchiveFixtures.Disk("vda", 21, 320 << 10, 6),
        ArchiveFixtures.Disk.dense("vdb", 22, 96 << 10)), 32 << 10, Codec.ZSTD);
    sound = Files.readAllBytes(p);
    tar = TarBlocks.of(p);
    assertEquals(List.of(), ArchiveErrorPlacesTest.errors(p));
  }

  @AfterAll
  static void theSweepFoundDamage() {
    // nearly all damage is found (a flip in the padding after an entry's data is harmless and may go unseen)
    assertTrue(found >= 3 * SEEDS * 4 / 5, "damage found in " + found + " of " + 3 * SEEDS + " cases");
  }

  static Stream<Arguments> cases() {
    return Arrays.stream(Damage.values()).flatMap(d -> IntStream.range(0, SEEDS).mapToObj(s -> Arguments.of(d, s)));
  }

  @ParameterizedTest(name = "{0} seed {1}")
  @MethodSource("cases")
  void everyErrorNamesAPlaceThatAgreesWithTheDamage(Damage damage, int seed) throws Exception {
    Random r = new Random(seed * 31L + damage.ordinal());
    long at = damage == Damage.ZERO_RECORD ? 512L * r.nextInt(sound.length / 512) : r.nextInt(sound.length);
    byte[] b = switch (damage) {
      case FLIP -> {
        byte[] out = sound.clone();
        out[(int) at] ^= (byte) (1 << r.nextInt(8));
        yield out;
      }
      case CUT -> Arrays.copyOf(sound, (int) at);
      case ZERO_RECORD -> {
        byte[] out = sound.clone();
        Arrays.fill(out, (int) at, (int) at + 512, (byte) 0);
        yield out;
      }
    };
    if (Arrays.equals(b, sound)) {
      return; // a record of zeros zeroed again
    }
    Path p = Files.write(dir.resolve(damage + "-" + seed + ".tar"), b);
    List<ArchiveException.Where> places = new ArrayList<>();
    List<String> what = new ArrayList<>();
    for (ArchiveException e : ArchiveErrorPlacesTest.errors(p)) {
      places.add(e.where());
      what.add(e.getMessage());
    }
    for (Finding f : ArchiveVerifier.verify(p)) {
      places.add(f.where());
      what.add(f.toString());
    }
    if (!places.isEmpty()) {
      found++;
    }
    for (int i = 0; i < places.size(); i++) {
      ArchiveException.Where w = places.get(i);
      String context = damage + " at " + at + " (" + name(tar.containing(at)) + "): " + what.get(i) + " " + w;
      assertNotEquals(ArchiveException.Where.ARCHIVE, w, context);
      assertTrue(damage == Damage.CUT ? agreesWithCut(w, at) : agreesWithDamage(w, at), context);
    }
  }

  private static String name(TarBlocks.Entry e) {
    return e == null ? "end-of-archive records" : e.name();
  }

  /** The place names the entry around {@code at}, a byte inside it, or the seal over damaged metadata. */
  private static boolean agreesWithDamage(ArchiveException.Where w, long at) {
    TarBlocks.Entry e = tar.containing(at);
    long from = e == null ? tar.end() : e.header();
    long to = e == null ? sound.length : e.next();
    return e != null && w.entry().equals(Optional.of(e.name()))
        || inside(w.fileOffset(), from, to)
        || e != null && SEALED.contains(e.name()) && w.entry().equals(Optional.of("seal.json"));
  }

  /** The place is at the cut (the three records before it), the entry cut, or the missing seal. */
  private static boolean agreesWithCut(ArchiveException.Where w, long at) {
    return inside(w.fileOffset(), at - 3 * 512, at + 1)
        || w.entry().equals(Optional.of("seal.json"))
        || at > 0 && w.entry().equals(Optional.of(name(tar.containing(at - 1))))
        || w.entry().equals(Optional.of(name(tar.containing(at))));
  }

  private static boolean inside(OptionalLong offset, long from, long to) {
    return offset.isPresent() && offset.getAsLong() >= from && offset.getAsLong() < to;
  }
}
