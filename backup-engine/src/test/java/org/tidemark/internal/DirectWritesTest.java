package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DirectWritesTest {
  @TempDir Path dir;

  /**
   * Aligned, unaligned, heap and direct writes, overlapping one another in a seeded order: the file
   * read back through the page cache always equals a byte-array model of the writes.
   */
  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5})
  void mixedWritesStayCoherent(long seed) throws IOException {
    int size = 1 << 20;
    byte[] model = new byte[size];
    Path file = dir.resolve("img");
    Random r = new Random(seed);
    int direct = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            StandardOpenOption.READ);
        DirectWrites w = DirectWrites.open(file, ch, new EarlyWriteback(ch), true)) {
      int a = w.alignment();
      for (int i = 0; i < 200; i++) {
        boolean aligned = r.nextBoolean();
        int length = aligned ? a * (1 + r.nextInt(16)) : 1 + r.nextInt(3 * a);
        long at = aligned ? (long) a * r.nextInt(size / a - 16) : r.nextInt(size - length);
        byte[] bytes = new byte[length];
        r.nextBytes(bytes);
        boolean wentDirect;
        if (r.nextInt(3) > 0) {
          ByteBuffer data = r.nextBoolean() ? DirectWrites.allocate(length).put(bytes).flip() : ByteBuffer.wrap(bytes);
          wentDirect = w.write(at, data);
          assertFalse(data.hasRemaining(), "the buffer is consumed");
          assertTrue(!wentDirect || (data.isDirect() && aligned), "only aligned direct buffers go around the cache");
        } else { // a gathering write of up to three parts, each in its own buffer
          int cut1 = aligned ? a * r.nextInt(length / a + 1) : r.nextInt(length + 1);
          int cut2 = cut1 + (aligned ? a * r.nextInt((length - cut1) / a + 1) : r.nextInt(length - cut1 + 1));
          ByteBuffer[] parts = {part(bytes, 0, cut1, r), part(bytes, cut1, cut2, r), part(bytes, cut2, length, r)};
          boolean allDirect = java.util.Arrays.stream(parts).allMatch(b -> b.isDirect() || !b.hasRemaining());
          wentDirect = w.write(at, parts);
          for (ByteBuffer b : parts) {
            assertFalse(b.hasRemaining(), "every part is consumed");
          }
          assertTrue(!wentDirect || (allDirect && aligned), "only aligned direct parts go around the cache");
        }
        direct += wentDirect ? 1 : 0;
        System.arraycopy(bytes, 0, model, (int) at, length);
      }
    }
    byte[] actual = Files.readAllBytes(file);
    assertArrayEquals(model, java.util.Arrays.copyOf(actual, size));
    for (int i = size; i < actual.length; i++) {
      assertEquals(0, actual[i]);
    }
    assumeTrue(direct > 0, "the file system of " + dir + " does not take direct writes");
  }

  /** Bytes [from, to) of {@code bytes} in a direct (aligned) or a heap buffer. */
  private static ByteBuffer part(byte[] bytes, int from, int to, Random r) {
    return r.nextBoolean() ? DirectWrites.allocate(to - from).put(bytes, from, to - from).flip()
        : ByteBuffer.wrap(bytes, from, to - from).slice();
  }

  @Test
  void alignedDirectBuffersGoAroundThePageCache() throws IOException {
    Path file = dir.resolve("img");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        DirectWrites w = DirectWrites.open(file, ch, new EarlyWriteback(ch), true)) {
      assumeTrue(w.isDirect(), "the file system of " + dir + " does not take direct I/O");
      ByteBuffer b = DirectWrites.allocate(2 * w.alignment());
      assertEquals(0, b.alignmentOffset(0, DirectWrites.MAX_ALIGNMENT));
      assertTrue(w.write(w.alignment(), b));
      assertFalse(w.write(w.alignment() + 1, DirectWrites.allocate(w.alignment())), "unaligned position");
      assertFalse(w.write(0, DirectWrites.allocate(w.alignment() - 1)), "unaligned length");
      assertFalse(w.write(0, DirectWrites.allocate(w.alignment() + 1).position(1)), "unaligned address");
      assertFalse(w.write(0, ByteBuffer.allocate(w.alignment())), "heap buffer");
      assertTrue(w.write(0, DirectWrites.allocate(w.alignment()), DirectWrites.allocate(2 * w.alignment())), "gathered");
      assertFalse(w.write(0, DirectWrites.allocate(w.alignment()), DirectWrites.allocate(w.alignment() - 1)),
          "a gathered part of unaligned length");
      assertFalse(w.write(0, DirectWrites.allocate(w.alignment()), ByteBuffer.allocate(w.alignment())),
          "a gathered heap part");
      assertTrue(w.isDirect(), "refusals by alignment do not turn direct writes off");
    }
    assertEquals(3 * Files.getFileStore(file).getBlockSize(), Files.size(file), "the first write ended at 3 blocks");
  }

  @Test
  void theSwitchTurnsDirectWritesOff() throws IOException {
    Path file = dir.resolve("img");
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        DirectWrites w = DirectWrites.open(file, ch, new EarlyWriteback(ch), false)) {
      assertFalse(w.isDirect());
      assertFalse(w.write(0, DirectWrites.allocate(1 << 16)));
    }
    assertEquals(1 << 16, Files.size(file));
  }
}
