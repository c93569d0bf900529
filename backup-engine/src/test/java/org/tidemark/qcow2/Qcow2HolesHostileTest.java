package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile refcount structures under QEMU's metadata-preallocation rule, which is the only reader of
 * refcounts: a {@code preallocation=metadata} image QEMU wrote (the rule applies: holes are asked
 * about), made sparse, with its refcount table offset past the end of the file, unaligned or 0, or
 * its first refcount block past the end: each is read without an error, the rule does not apply,
 * and the map reports every data cluster as data. A table claiming 2^32 - 1 clusters is read only
 * as far as the file's clusters need (the rule's count stops there): the map is the unpatched one.
 */
class Qcow2HolesHostileTest {
  @TempDir static Path dir;
  static Path good;

  @BeforeAll
  static void makeImage() throws Exception {
    good = dir.resolve("good.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=metadata", good.toString(), "16M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 7 0 4k", "-c", "write -q -P 9 1M 8k", good.toString());
  }

  /** A change made to the image file. */
  interface Patch {
    void apply(FileChannel file, long refcountTable) throws java.io.IOException;
  }

  /** A sparse copy of the good image with {@code patch} applied. */
  private static Path patched(String name, Patch patch) throws Exception {
    Path img = dir.resolve(name + ".qcow2");
    Qemu.run("cp", "--sparse=always", good.toString(), img.toString());
    try (FileChannel ch = FileChannel.open(img, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer h = ByteBuffer.allocate(64);
      ch.read(h, 0);
      patch.apply(ch, h.getLong(48));
    }
    return img;
  }

  private static Patch header(int at, long value, int bytes) {
    return (ch, table) -> ch.write(bytes == 8 ? ByteBuffer.allocate(8).putLong(0, value) : ByteBuffer.allocate(4).putInt(0, (int) value), at);
  }

  static Stream<Arguments> patches() {
    return Stream.of(
        Arguments.of("table-past-end", header(48, 1L << 40, 8)),
        Arguments.of("table-unaligned-near-end", header(48, (16L << 20) + (1 << 20) - 3, 8)),
        Arguments.of("table-at-0", header(48, 0, 8)),
        Arguments.of("block-past-end", (Patch) (ch, table) -> ch.write(ByteBuffer.allocate(8).putLong(0, 1L << 40), table)));
  }

  @Test
  void aTableClaiming4GClustersIsReadOnlyAsFarAsTheFileGoes() throws Exception {
    // the entries the file's clusters need are the real ones: the rule applies as unpatched
    Path img = patched("table-of-4g-clusters", header(56, 0xffff_ffffL, 4));
    Path plain = patched("plain-for-4g", (ch, table) -> { });
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(Qcow2HolesQemuTest.qemuMap(plain), q.mapEntries());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("patches")
  void hostileRefcountsLeaveTheRuleOff(String name, Patch patch) throws Exception {
    Path img = patched(name, patch);
    try (Qcow2Image q = Qcow2Image.open(img)) {
      List<Qcow2Image.MapEntry> map = q.mapEntries();
      assertTrue(map.stream().noneMatch(e -> e.zero() && e.data()), name + ": every data cluster is data");
      assertEquals(16L << 20, map.stream().filter(Qcow2Image.MapEntry::data).mapToLong(Qcow2Image.MapEntry::length).sum(),
          name + ": the preallocated clusters, all data");
    }
  }

  @Test
  void unpatchedTheRuleIsOnAndQemuAgrees() throws Exception {
    // the guard: the same sparse copy, unpatched, has the rule on, as QEMU's map says
    Path img = patched("plain", (ch, table) -> { });
    try (Qcow2Image q = Qcow2Image.open(img)) {
      assertEquals(Qcow2HolesQemuTest.qemuMap(img), q.mapEntries());
      assertTrue(q.mapEntries().stream().anyMatch(e -> e.zero() && e.data()));
      assertTrue(q.holeQueries() > 0);
    }
  }
}
