package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.disk.ImageException;
import org.tidemark.disk.UnsupportedImageException;

/**
 * Hostile images, made by patching a valid image QEMU wrote: each gets a typed error naming the
 * structure and the value, never an unchecked exception, an OOM or a hang.
 */
class Qcow2HostileTest {
  @TempDir static Path dir;
  static Path good;

  @BeforeAll
  static void makeImage() throws Exception {
    good = dir.resolve("good.qcow2");
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", good.toString(), "64M");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 1 0 1M", "-c", "write -q -P 2 40M 64k", good.toString());
    Qemu.run("qemu-img", "bitmap", "--add", good.toString(), "cp1");
    Qemu.run("qemu-io", "-f", "qcow2", "-c", "write -q -P 3 8M 64k", good.toString());
  }

  /** A copy of the good image with {@code patch} applied to its bytes. */
  private static Path patched(String name, Consumer<ByteBuffer> patch) throws Exception {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(good));
    patch.accept(b);
    Path p = dir.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private static <T extends ImageException> void refused(Class<T> type, Path img, String... words) {
    T e = assertThrows(type, () -> {
      try (Qcow2Image q = Qcow2Image.open(img)) {
        q.allocation();
        q.readFully(0, ByteBuffer.allocate(2 << 20));
        for (Qcow2Bitmap b : q.bitmaps()) {
          q.dirtyExtents(b);
        }
      }
    });
    assertTrue(e.getMessage().startsWith(img.toString()), e.getMessage());
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
    }
  }

  private static long l1Offset(ByteBuffer b) {
    return b.getLong(40);
  }

  @Test
  void badMagicFail() throws Exception {
    refused(CorruptImageException.class, patched("bad-magic-fail.qcow2", b -> b.putInt(0, 0x12345678)), "magic", "0x12345678");
  }

  @Test
  void clusterBitsOutOfRangeFail() throws Exception {
    refused(CorruptImageException.class, patched("cluster-bits-30-fail.qcow2", b -> b.putInt(20, 30)), "cluster_bits 30");
  }

  @Test
  void hugeL1SizeFail() throws Exception {
    refused(CorruptImageException.class, patched("l1-size-huge-fail.qcow2", b -> b.putInt(36, 0x7fffffff)), "l1_size");
  }

  @Test
  void l1PastEndOfFileFail() throws Exception {
    refused(CorruptImageException.class, patched("l1-offset-past-eof-fail.qcow2", b -> b.putLong(40, 1L << 40)),
        "L1 table", "past the end of the file");
  }

  @Test
  void l2PastEndOfFileFail() throws Exception {
    refused(CorruptImageException.class, patched("l2-offset-past-eof-fail.qcow2",
        b -> b.putLong((int) l1Offset(b), (1L << 63) | (1L << 40))), "L2 table of L1 index 0 at 0x10000000000", "past the end");
  }

  @Test
  void unalignedL2Fail() throws Exception {
    refused(CorruptImageException.class, patched("l2-offset-unaligned-fail.qcow2",
        b -> b.putLong((int) l1Offset(b), b.getLong((int) l1Offset(b)) + 512)), "not aligned");
  }

  @Test
  void dataClusterPastEndOfFileFail() throws Exception {
    refused(CorruptImageException.class, patched("data-offset-past-eof-fail.qcow2", b -> {
      long l2 = b.getLong((int) l1Offset(b)) & 0x00ff_ffff_ffff_fe00L;
      b.putLong((int) l2, (1L << 63) | (1L << 40));
    }), "data cluster of guest offset 0", "past the end");
  }

  @Test
  void unknownIncompatibleFeatureUnsupported() throws Exception {
    refused(UnsupportedImageException.class, patched("unknown-incompatible-fail.qcow2",
        b -> b.putLong(72, b.getLong(72) | (1L << 40))), "unknown incompatible feature", "0x10000000000");
  }

  @Test
  void encryptionUnsupported() throws Exception {
    refused(UnsupportedImageException.class, patched("encrypted-aes-fail.qcow2", b -> b.putInt(32, 1)), "encrypted", "AES");
  }

  @Test
  void refcountOrderAboveSixFail() throws Exception {
    refused(CorruptImageException.class, patched("refcount-order-7-fail.qcow2", b -> b.putInt(96, 7)), "refcount_order 7");
  }

  @Test
  void versionFourUnsupported() throws Exception {
    refused(UnsupportedImageException.class, patched("version-4-fail.qcow2", b -> b.putInt(4, 4)), "version 4");
  }

  @Test
  void truncatedImageFail() throws Exception {
    byte[] all = Files.readAllBytes(good);
    Path p = dir.resolve("truncated-fail.qcow2");
    Files.write(p, java.util.Arrays.copyOf(all, 200_000));
    refused(CorruptImageException.class, p, "past the end of the file");
  }

  @Test
  void emptyFileFail() throws Exception {
    refused(CorruptImageException.class, Files.write(dir.resolve("empty-fail.qcow2"), new byte[0]), "not a qcow2 image");
  }
}
