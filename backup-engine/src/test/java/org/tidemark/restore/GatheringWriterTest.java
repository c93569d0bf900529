package org.tidemark.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.disk.DiskImageWriter;

/**
 * The restore's gathering writer: small pieces adjacent in the guest leave as one write of at most
 * {@link GatheringWriter#STAGE} bytes, large ones alone, every byte lands where it belongs, and a
 * piece's buffer is handed back exactly once and never read after that.
 */
class GatheringWriterTest {
  private static final int KIB = 1 << 10;
  private static final int MIB = 1 << 20;

  /** A writer into memory that records each write. */
  private static final class Recorder implements DiskImageWriter {
    final byte[] image;
    final List<long[]> writes = new ArrayList<>(); // {offset, length}

    Recorder(int size) {
      image = new byte[size];
    }

    @Override
    public long virtualSize() {
      return image.length;
    }

    @Override
    public void write(long offset, ByteBuffer data) {
      writes.add(new long[] {offset, data.remaining()});
      data.get(image, (int) offset, data.remaining());
    }

    @Override
    public Path commit() {
      throw new UnsupportedOperationException();
    }

    @Override
    public Path finish() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {}
  }

  /** A piece handed to the writer: its guest range, and where it sits in its own buffer. */
  private record Piece(long offset, int length, ByteBuffer buffer, int at) {}

  @Test
  void adjacentSmallPiecesLeaveTogetherLargeOnesAlone() throws IOException {
    Recorder out = new Recorder(16 * MIB);
    GatheringWriter w = new GatheringWriter(out::write);
    Runnable nothing = () -> {};
    w.write(0, filled(64 * KIB, 1), nothing);
    w.write(64 * KIB, filled(64 * KIB, 2), nothing);
    w.write(128 * KIB, filled(128 * KIB, 3), nothing); // adjacent: one write of 256 KiB so far
    w.write(512 * KIB, filled(64 * KIB, 4), nothing); // a gap: the run above leaves
    w.write(576 * KIB, filled(2 * MIB, 5), nothing); // large: the lone piece before it leaves, then it
    w.write(576 * KIB + 2 * MIB, filled(4 * KIB, 6), nothing);
    assertEquals(List.of("0+262144", "524288+65536", "589824+2097152"), described(out.writes));
    w.flush();
    w.flush(); // nothing pending: no write
    assertEquals("2686976+4096", described(out.writes).get(3));
    assertEquals(4, out.writes.size());
    assertEquals(2, out.image[64 * KIB]);
    assertEquals(3, out.image[256 * KIB - 1]);
    assertEquals(0, out.image[256 * KIB]);
    assertEquals(6, out.image[576 * KIB + 2 * MIB]);
  }

  @Test
  void aRunStopsAtTheStagingSize() throws IOException {
    Recorder out = new Recorder(32 * MIB);
    GatheringWriter w = new GatheringWriter(out::write);
    int piece = 768 * KIB;
    for (long at = 0; at + piece <= 20 * MIB; at += piece) {
      w.write(at, filled(piece, 7), () -> {});
    }
    w.flush();
    for (long[] write : out.writes) {
      assertTrue(write[1] <= GatheringWriter.STAGE, "a write of " + write[1] + " bytes");
    }
    assertEquals(3, out.writes.size(), described(out.writes).toString()); // 10 + 10 + 6 pieces
  }

  static LongStream seeds() {
    return LongStream.range(1, 26);
  }

  /**
   * Random pieces in guest order (gaps or not, 4 KiB to 3 MiB, each at some place in a buffer of
   * its own): the image equals the model, every piece is released once, a released buffer is
   * scribbled over at once (a late read of it would show), writes ascend without overlapping, each
   * is one piece or a run of small adjacent pieces within the staging size, and no two adjacent
   * runs of small pieces could have been one.
   */
  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void randomPiecesLandWhereTheyBelong(long seed) throws IOException {
    Random r = new Random(seed);
    int size = 24 * MIB;
    Recorder out = new Recorder(size);
    byte[] model = new byte[size];
    List<Piece> pieces = new ArrayList<>();
    long pos = 0;
    while (true) {
      pos += r.nextInt(4) == 0 ? 4 * KIB * (1 + r.nextInt(64)) : 0;
      int length = r.nextInt(5) == 0 ? MIB / 2 + r.nextInt(5 * MIB / 2) : 4 * KIB * (1 + r.nextInt(48));
      if (pos + length > size) {
        break;
      }
      int at = 4 * KIB * r.nextInt(8);
      ByteBuffer buffer = ByteBuffer.allocateDirect(at + length + 4 * KIB);
      byte[] bytes = new byte[length];
      r.nextBytes(bytes);
      buffer.put(at, bytes);
      System.arraycopy(bytes, 0, model, (int) pos, length);
      pieces.add(new Piece(pos, length, buffer, at));
      pos += length;
    }
    int[] released = new int[pieces.size()];
    GatheringWriter w = new GatheringWriter(out::write);
    for (int i = 0; i < pieces.size(); i++) {
      Piece p = pieces.get(i);
      int index = i;
      w.write(p.offset(), p.buffer().duplicate().position(p.at()).limit(p.at() + p.length()), () -> {
        released[index]++;
        byte[] scribble = new byte[p.length()];
        Arrays.fill(scribble, (byte) 0xEE);
        p.buffer().put(p.at(), scribble);
      });
    }
    w.flush();

    assertArrayEquals(model, out.image);
    for (int i = 0; i < released.length; i++) {
      assertEquals(1, released[i], "piece " + i + " released once");
    }
    long previousEnd = 0;
    boolean previousSmallRun = false;
    int next = 0; // the first piece the next write must start with
    for (long[] write : out.writes) {
      assertTrue(write[0] >= previousEnd, "writes ascend without overlap");
      Piece first = pieces.get(next);
      assertEquals(first.offset(), write[0], "a write starts at a piece");
      long covered = 0;
      int count = 0;
      while (covered < write[1]) {
        Piece p = pieces.get(next + count);
        assertEquals(write[0] + covered, p.offset(), "a write covers adjacent pieces");
        covered += p.length();
        count++;
      }
      assertEquals(write[1], covered, "a write ends at a piece's end");
      boolean smallRun = pieces.subList(next, next + count).stream().allMatch(p -> p.length() < GatheringWriter.LARGE);
      assertTrue(count == 1 || smallRun && write[1] <= GatheringWriter.STAGE,
          "a write is one piece or a run of small pieces within the staging size");
      if (smallRun && previousSmallRun && write[0] == previousEnd) {
        assertTrue(write[1] + out.writes.get(out.writes.indexOf(write) - 1)[1] > GatheringWriter.STAGE,
            "adjacent small runs at " + write[0] + " were not gathered into one write");
      }
      previousEnd = write[0] + write[1];
      previousSmallRun = smallRun;
      next += count;
    }
    assertEquals(pieces.size(), next, "every piece written");
  }

  private static ByteBuffer filled(int length, int value) {
    ByteBuffer b = ByteBuffer.allocateDirect(length);
    byte[] bytes = new byte[length];
    Arrays.fill(bytes, (byte) value);
    return b.put(0, bytes);
  }

  private static List<String> described(List<long[]> writes) {
    return writes.stream().map(w -> w[0] + "+" + w[1]).toList();
  }
}
