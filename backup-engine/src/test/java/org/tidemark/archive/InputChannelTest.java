package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.store.LocalStore;
import org.tidemark.store.StoreInput;

/** The channel Commons Compress reads tar headers through: the file's bytes, few positional reads. */
class InputChannelTest {
  @TempDir Path dir;

  static LongStream seeds() {
    return LongStream.range(0, 40);
  }

  /** Reads of random sizes at random positions, and runs of small reads, give the file's bytes. */
  @ParameterizedTest
  @MethodSource("seeds")
  void readsGiveTheFilesBytes(long seed) throws IOException {
    Random random = new Random(seed);
    byte[] file = new byte[random.nextInt(3 * InputChannel.WINDOW) + 1];
    random.nextBytes(file);
    Path path = Files.write(dir.resolve("f"), file);
    try (Counting input = new Counting(path); InputChannel channel = new InputChannel(input)) {
      for (int i = 0; i < 200; i++) {
        long at = random.nextInt(file.length + 10);
        int size = random.nextBoolean() ? random.nextInt(4) : random.nextInt(2 * InputChannel.WINDOW);
        channel.position(at);
        ByteBuffer dst = ByteBuffer.allocate(size);
        int n = channel.read(dst);
        if (size == 0) {
          assertEquals(0, n);
        } else if (at >= file.length) {
          assertEquals(-1, n, "a read at " + at + " of a file of " + file.length);
        } else {
          assertTrue(n >= 1 && n <= size, "read " + n + " of " + size);
          byte[] expected = new byte[n];
          System.arraycopy(file, (int) at, expected, 0, n);
          assertArrayEquals(expected, java.util.Arrays.copyOf(dst.array(), n), "bytes at " + at);
          assertEquals(at + n, channel.position());
        }
      }
    }
  }

  /**
   * With the places of the coming reads given (as the tar header walk gives every entry's), the
   * windows there are read ahead on other threads; reads at those places, skipping some, and
   * reads elsewhere still give the file's bytes.
   */
  @ParameterizedTest
  @MethodSource("seeds")
  void readsAheadAtThePlacesGiven(long seed) throws Exception {
    Random random = new Random(seed);
    byte[] file = new byte[64 * InputChannel.WINDOW];
    random.nextBytes(file);
    Path path = Files.write(dir.resolve("f"), file);
    long[] places = random.longs(100, 0, file.length + 100L).sorted().distinct().toArray();
    java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(3);
    try (StoreInput input = LocalStore.openFile(path); InputChannel channel = new InputChannel(input, places, workers)) {
      for (long place : places) {
        if (random.nextInt(5) == 0) {
          continue; // the reader went elsewhere
        }
        long at = random.nextInt(10) == 0 ? random.nextInt(file.length) : place; // sometimes not at a place
        channel.position(at);
        ByteBuffer dst = ByteBuffer.allocate(1 + random.nextInt(600));
        int n = channel.read(dst);
        if (at >= file.length) {
          assertEquals(-1, n);
          continue;
        }
        byte[] expected = java.util.Arrays.copyOfRange(file, (int) at, (int) at + n);
        assertArrayEquals(expected, java.util.Arrays.copyOf(dst.array(), n), "bytes at " + at);
      }
    } finally {
      workers.shutdown();
    }
  }

  /** A run of one-byte reads, as the PAX parser does, costs one positional read per window. */
  @Test
  void oneByteReadsShareAWindow() throws IOException {
    byte[] file = new byte[4 * InputChannel.WINDOW];
    new Random(7).nextBytes(file);
    Path path = Files.write(dir.resolve("f"), file);
    try (Counting input = new Counting(path); InputChannel channel = new InputChannel(input)) {
      ByteBuffer one = ByteBuffer.allocate(1);
      for (int i = 0; i < file.length; i++) {
        one.clear();
        assertEquals(1, channel.read(one));
        assertEquals(file[i], one.get(0));
      }
      assertEquals(4, input.reads);
    }
  }

  /** A file's positional input ({@link LocalStore#openFile}) that counts its reads. */
  private static final class Counting implements StoreInput {
    private final StoreInput file;
    int reads;

    Counting(Path path) throws IOException {
      this.file = LocalStore.openFile(path);
    }

    @Override
    public Path path() {
      return file.path();
    }

    @Override
    public long size() throws IOException {
      return file.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      reads++;
      return file.read(dst, position);
    }

    @Override
    public void close() throws IOException {
      file.close();
    }
  }
}
