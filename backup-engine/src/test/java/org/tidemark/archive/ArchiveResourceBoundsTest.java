package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small archives whose metadata claim huge chunk counts, chunk sizes, disk sizes or entry sizes:
 * each gets an {@link ArchiveCorruptException}, and reading it allocates at most {@link #BOUND}
 * bytes on the reading thread. The metadata are edited in place and the seal recomputed, so each
 * claim reaches the check past the seal. The bounds are documented in docs/reliability.md.
 */
class ArchiveResourceBoundsTest {
  /** What opening, reading and verifying any of these 12 KiB archives may allocate. */
  static final long BOUND = 8L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private byte[] good;

  @BeforeEach
  void write() throws Exception {
    good = Files.readAllBytes(ArchiveFuzzSeedsTest.ARCHIVE_SEEDS.resolve("seed-full-two-disks-zstd"));
    readAll(Files.write(dir.resolve("warm.tar"), good)); // load the classes before anything is measured
  }

  /** The archive with one JSON entry rewritten compactly (padded to its length) and resealed. */
  private Path edited(String name, String entry, Consumer<JsonNode> edit) throws Exception {
    byte[] bytes = good.clone();
    TarArchiveEntry e = entry(bytes, entry);
    JsonNode node = JSON.readTree(new String(bytes, (int) e.getDataOffset(), (int) e.getSize(), StandardCharsets.UTF_8));
    edit.accept(node);
    byte[] json = JSON.writeValueAsBytes(node);
    assertTrue(json.length <= e.getSize(), "the compact JSON fits in place");
    java.util.Arrays.fill(bytes, (int) e.getDataOffset(), (int) (e.getDataOffset() + e.getSize()), (byte) ' ');
    System.arraycopy(json, 0, bytes, (int) e.getDataOffset(), json.length);
    byte[] resealed = ArchiveReaderFuzzTest.reseal(bytes);
    assertTrue(resealed != null, "resealed");
    return Files.write(dir.resolve(name), resealed);
  }

  /** The archive with the int at {@code field} of the first record of {@code index.bin} set to {@code value}, resealed. */
  private Path editedIndex(String name, int field, int value) throws Exception {
    byte[] bytes = good.clone();
    int at = (int) entry(bytes, ArchiveWriter.INDEX_ENTRY).getDataOffset() + ArchiveLimits.INDEX_HEADER + field;
    java.nio.ByteBuffer.wrap(bytes).putInt(at, value);
    byte[] resealed = ArchiveReaderFuzzTest.reseal(bytes);
    assertTrue(resealed != null, "resealed");
    return Files.write(dir.resolve(name), resealed);
  }

  private static TarArchiveEntry entry(byte[] bytes, String name) throws Exception {
    try (TarFile tar = new TarFile(new org.apache.commons.compress.utils.SeekableInMemoryByteChannel(bytes))) {
      return tar.getEntries().stream().filter(x -> x.getName().equals(name)).findFirst().orElseThrow();
    }
  }

  private static void readAll(Path p) throws Exception {
    try (ArchiveReader r = ArchiveReader.open(p)) {
      byte[] buf = new byte[1 << 16];
      for (ChunkRecord c : r.chunks()) {
        r.readChunk(c, buf);
      }
    }
  }

  /** Opens and reads the archive, then verifies it; both on this thread, within the bound. */
  private static void refused(Path p, String... words) throws Exception {
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = mx.getCurrentThreadAllocatedBytes();
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> readAll(p));
    long allocated = mx.getCurrentThreadAllocatedBytes() - before;
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "'" + w + "' missing from: " + e.getMessage());
    }
    assertTrue(allocated < BOUND, p.getFileName() + " allocated " + allocated + " bytes (bound " + BOUND + ")");
    // verify reports the same problem as its one finding, refusing before it allocates its chunk buffer
    long beforeVerify = mx.getCurrentThreadAllocatedBytes();
    List<Finding> findings = ArchiveVerifier.verify(p);
    long verifyAllocated = mx.getCurrentThreadAllocatedBytes() - beforeVerify;
    assertEquals(1, findings.size(), findings.toString());
    assertTrue(verifyAllocated < BOUND, "verify allocated " + verifyAllocated + " bytes (bound " + BOUND + ")");
  }

  @Test
  void aChunkClaimingTwoGigabytesOfGuestData() throws Exception {
    // index.bin record: u64 guest offset, u32 raw length (at 8), u32 stored length (at 12), ...
    refused(editedIndex("raw-length-max.tar", 8, Integer.MAX_VALUE),
        "lengths raw 2147483647", "expected 0 < raw <= " + ArchiveWriter.MAX_CHUNK);
  }

  @Test
  void aChunkClaimingTwoGigabytesStored() throws Exception {
    refused(editedIndex("stored-length-max.tar", 12, Integer.MAX_VALUE),
        "stored 2147483647", "expected 0 < raw <= " + ArchiveWriter.MAX_CHUNK);
  }

  @Test
  void aSealClaimingTwoBillionChunks() throws Exception {
    refused(edited("seal-chunks-max.tar", "seal.json", s -> ((ObjectNode) s).put("chunks", Integer.MAX_VALUE)),
        "the seal lists 2147483647 chunks", "expected 0 to " + ArchiveLimits.MAX_CHUNKS);
  }

  /** The most chunks an archive may hold, with the index length that goes with them: 48 MiB the file does not have. */
  @Test
  void aSealClaimingTheMostChunksInASmallFile() throws Exception {
    long indexBytes = ArchiveLimits.indexBytes(ArchiveLimits.MAX_CHUNKS);
    refused(edited("seal-chunks-limit.tar", "seal.json", s -> ((ObjectNode) s).put("chunks", ArchiveLimits.MAX_CHUNKS)
        .put("indexBytes", indexBytes)), "the seal gives index.bin " + indexBytes + " bytes, more than lie between");
  }

  @Test
  void aSealWhoseIndexLengthDisagreesWithItsChunkCount() throws Exception {
    refused(edited("seal-index-bytes.tar", "seal.json", s -> ((ObjectNode) s).put("indexBytes", 1L << 40)),
        "the seal gives index.bin 1099511627776 bytes for");
  }

  @Test
  void anIndexRecordNamingADiskTheManifestLacks() throws Exception {
    // u16 disk number at 20, codec and a zero byte after it
    refused(editedIndex("disk-number.tar", 20, 0x7fff0000), "index.bin: record 0: disk number 32767 (the manifest has 2");
  }

  @Test
  void aDiskOfFourExabytes() throws Exception {
    refused(edited("virtual-size-huge.tar", "manifest.json",
        m -> ((ObjectNode) m.get("disks").get(0)).put("virtualSize", 1L << 62)),
        "disk 'vda' has virtual size 4611686018427387904", "expected 0 to " + ArchiveReader.MAX_VIRTUAL_SIZE);
  }

  @Test
  void aNegativeDiskSize() throws Exception {
    refused(edited("virtual-size-negative.tar", "manifest.json",
        m -> ((ObjectNode) m.get("disks").get(0)).put("virtualSize", -1)), "virtual size -1");
  }

  @Test
  void aDiskNameThatEscapesTheRestoreFolder() throws Exception {
    refused(edited("disk-name-escapes.tar", "manifest.json",
        m -> ((ObjectNode) m.get("disks").get(0)).put("name", "../../x")), "disk name '../../x' cannot name a file");
  }

  @Test
  void aManifestEntryClaimingEightGigabytes() throws Exception {
    // the tar header's size field (12 octal digits at 124) of manifest.json, checksum kept valid
    byte[] bytes = good.clone();
    int header = (int) entry(bytes, "manifest.json").getDataOffset() - 512;
    byte[] size = "77777777777\0".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(size, 0, bytes, header + 124, 12);
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += i >= 148 && i < 156 ? ' ' : bytes[header + i] & 0xff;
    }
    byte[] checksum = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(checksum, 0, bytes, header + 148, 8);
    // refused by the metadata limit before anything of that size is read
    refused(Files.write(dir.resolve("manifest-8g.tar"), bytes), "'manifest.json' claims 8589934591 bytes",
        "expected at most " + ArchiveReader.MAX_METADATA);
  }
}
