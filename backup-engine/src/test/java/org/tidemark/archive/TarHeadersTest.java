package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TarHeadersTest {
  static LongStream seeds() {
    return LongStream.rangeClosed(1, 20);
  }

  /**
   * The length the reader computes for a chunk's header is the length the writer formats, and a
   * large chunk's data starts on a 4 KiB boundary: short and long names, sizes on both sides of
   * the threshold, header positions on every 512-byte record of a 4 KiB block and beyond.
   */
  @ParameterizedTest
  @MethodSource("seeds")
  void theReaderComputesTheLengthTheWriterFormats(long seed) {
    Random r = new Random(seed);
    for (int i = 0; i < 50; i++) {
      String disk = r.nextInt(4) == 0 ? "disk-" + "y".repeat(90 + r.nextInt(120)) : "vd" + (char) ('a' + r.nextInt(26));
      String name = ArchiveWriter.chunkEntryName(disk, (long) r.nextInt(1 << 20) << 16, Codec.ZSTD);
      long size = r.nextBoolean() ? TarHeaders.ALIGNED_MIN + r.nextInt(16 << 20) : 1 + r.nextInt(TarHeaders.ALIGNED_MIN - 1);
      long position = (long) TarHeaders.RECORD * r.nextInt(1 << 24);
      long created = 1_700_000_000L + r.nextInt(100_000_000);
      byte[] header = TarHeaders.formatChunk(name, size, created, position);
      assertEquals(header.length, TarHeaders.chunkLength(name, size, created, position), name + " at " + position);
      assertEquals(0, header.length % TarHeaders.RECORD);
      if (size >= TarHeaders.ALIGNED_MIN) {
        assertEquals(0, (position + header.length) % TarHeaders.ALIGNMENT, name + " at " + position);
        assertTrue(header.length <= 3 * TarHeaders.RECORD + TarHeaders.ALIGNMENT + (disk.length() > 80 ? 1024 : 0));
      } else {
        assertEquals(TarHeaders.length(name, size, created), header.length);
      }
    }
  }
}
