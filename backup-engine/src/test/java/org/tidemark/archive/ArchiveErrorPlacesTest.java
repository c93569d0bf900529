package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every class of archive damage is refused with where it is as fields, not only in words: the tar
 * entry ({@link ArchiveException#entry()}), the byte of the archive file ({@link
 * ArchiveException#fileOffset()}), and for a chunk its disk and guest offset. The expected places
 * come from GNU tar's listing of the sound archive ({@code tar -tvR}: each entry's header block;
 * its data one record later), and from the index's documented record layout (a 16-byte header,
 * then 24 bytes per chunk), never from the reader under test.
 */
class ArchiveErrorPlacesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** index.bin: its header, and one record per chunk (docs/archive-format.md). */
  private static final int INDEX_HEADER = 16;
  private static final int INDEX_RECORD = 24;

  @TempDir Path dir;
  private Path sound;
  private byte[] bytes;
  private TarBlocks tar;

  @BeforeEach
  void write() throws Exception {
    // two disks of 64 KiB chunks stored as they are: every entry has one plain ustar header
    sound = ArchiveFixtures.write(dir.resolve("sound.tar"), List.of(ArchiveFixtures.Disk.dense("vda", 7, 192 << 10),
        ArchiveFixtures.Disk.dense("vdb", 8, 128 << 10)), 64 << 10, Codec.NONE);
    bytes = Files.readAllBytes(sound);
    tar = TarBlocks.of(sound);
    assertEquals(List.of(), errors(sound), "the sound archive reads without an error");
    assertEquals(5, tar.chunks().size(), tar.toString());
  }

  /**
   * Every archive error that opening {@code p}, checking its tar headers and reading each chunk
   * throw, in that order (open's alone when it fails).
   */
  static List<ArchiveException> errors(Path p) throws Exception {
    List<ArchiveException> out = new ArrayList<>();
    try (ArchiveReader r = ArchiveReader.open(p)) {
      try {
        r.checkTarHeaders();
      } catch (ArchiveException e) {
        out.add(e);
      }
      for (ChunkRecord c : r.chunks()) {
        try {
          r.readChunk(c, ByteBuffer.allocate(c.rawLength()));
        } catch (ArchiveException e) {
          out.add(e);
        }
      }
    } catch (ArchiveException e) {
      out.add(e);
    }
    return out;
  }

  private ArchiveException firstError(byte[] damaged) throws Exception {
    Path p = Files.write(dir.resolve("damaged.tar"), damaged);
    List<ArchiveException> errors = errors(p);
    assertFalse(errors.isEmpty(), "the damage is found");
    return errors.get(0);
  }

  private static void assertAt(ArchiveException e, String entry, long fileOffset) {
    assertEquals(Optional.of(entry), e.entry(), e.getMessage());
    assertEquals(OptionalLong.of(fileOffset), e.fileOffset(), e.getMessage());
  }

  private static void assertChunk(ArchiveException e, TarBlocks.Entry chunk, long fileOffset) {
    assertAt(e, chunk.name(), fileOffset);
    assertEquals(Optional.of(chunk.disk()), e.disk(), e.getMessage());
    assertEquals(OptionalLong.of(chunk.guestOffset()), e.offset(), e.getMessage());
  }

  private static byte[] flipped(byte[] b, long at) {
    byte[] out = b.clone();
    out[(int) at] ^= 0x10;
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"checkpoint.xml", "manifest.json", "disks/vdb/0000000000010000.raw", "index.bin", "seal.json"})
  void aHeaderWithABadChecksumIsNamedAtItsBlock(String name) throws Exception {
    TarBlocks.Entry t = tar.get(name);
    ArchiveException e = firstError(flipped(bytes, t.header() + 101)); // a digit of the mode field
    assertAt(e, name, t.header());
    if (name.startsWith("disks/")) {
      assertChunk(e, t, t.header());
    }
  }

  @ParameterizedTest
  @EnumSource(value = TarTamper.class, names = {"SYMLINK", "FIFO", "SETUID"})
  void aTamperedHeaderWithItsChecksumFixedIsNamedAtItsBlock(TarTamper tamper) throws Exception {
    TarBlocks.Entry manifest = tar.get("manifest.json");
    assertAt(firstError(tamper.apply(bytes, (int) manifest.header())), "manifest.json", manifest.header());
    TarBlocks.Entry chunk = tar.chunks().get(3);
    assertChunk(firstError(tamper.apply(bytes, (int) chunk.header())), chunk, chunk.header());
  }

  /** Chunks 0 and 1 of vda (header and data) trade places: both are named where the index has them. */
  @Test
  void swappedChunksAreNamedWhereTheIndexPutsThem() throws Exception {
    TarBlocks.Entry first = tar.chunks().get(0);
    TarBlocks.Entry second = tar.chunks().get(1);
    assertEquals(first.next(), second.header());
    int length = (int) (second.header() - first.header());
    byte[] b = bytes.clone();
    System.arraycopy(bytes, (int) second.header(), b, (int) first.header(), length);
    System.arraycopy(bytes, (int) first.header(), b, (int) second.header(), length);
    List<ArchiveException> errors = errors(Files.write(dir.resolve("swapped.tar"), b));
    assertEquals(3, errors.size(), errors.toString());
    assertChunk(errors.get(0), first, first.header()); // the tar header: tar has the other chunk there
    assertChunk(errors.get(1), first, first.data()); // its data: checksum mismatch
    assertChunk(errors.get(2), second, second.data());
  }

  /** The archive with one JSON entry rewritten compactly (padded with spaces to its length) and resealed. */
  private byte[] editedJson(String name, Consumer<JsonNode> edit) throws Exception {
    TarBlocks.Entry t = tar.get(name);
    JsonNode node = JSON.readTree(new String(bytes, (int) t.data(), (int) t.size(), StandardCharsets.UTF_8));
    edit.accept(node);
    byte[] json = JSON.writeValueAsBytes(node);
    assertTrue(json.length <= t.size(), "the compact JSON fits in place");
    byte[] b = bytes.clone();
    Arrays.fill(b, (int) t.data(), (int) (t.data() + t.size()), (byte) ' ');
    System.arraycopy(json, 0, b, (int) t.data(), json.length);
    return resealed(b);
  }

  private static byte[] resealed(byte[] b) {
    byte[] out = ArchiveReaderFuzzTest.reseal(b);
    assertTrue(out != null, "resealed");
    return out;
  }

  @Test
  void aBadManifestFieldNamesTheManifestAndTheDisk() throws Exception {
    ArchiveException e = firstError(editedJson("manifest.json",
        m -> ((ObjectNode) m.get("disks").get(1)).put("virtualSize", -1)));
    assertAt(e, "manifest.json", tar.get("manifest.json").data());
    assertEquals(Optional.of("vdb"), e.disk(), e.getMessage());
  }

  @Test
  void anUnknownCodeInTheManifestNamesTheManifestsData() throws Exception {
    ArchiveException e = firstError(editedJson("manifest.json",
        m -> ((ObjectNode) m.get("disks").get(0)).put("kind", "partial")));
    assertAt(e, "manifest.json", tar.get("manifest.json").data());
  }

  @Test
  void aSealFieldOutOfRangeNamesTheSeal() throws Exception {
    assertAt(firstError(editedJson("seal.json", s -> ((ObjectNode) s).put("chunks", -1))), "seal.json",
        tar.get("seal.json").data());
  }

  @Test
  void editedMetadataWithoutANewSealNamesTheSeal() throws Exception {
    assertAt(firstError(flipped(bytes, tar.get("checkpoint.xml").data() + 40)), "seal.json", tar.get("seal.json").data());
  }

  /** index.bin with the field at {@code field} of record {@code record} set (4 or 8 bytes), resealed. */
  private byte[] editedRecord(int record, int field, long value, boolean wide) {
    byte[] b = bytes.clone();
    int at = (int) tar.get("index.bin").data() + INDEX_HEADER + record * INDEX_RECORD + field;
    if (wide) {
      ByteBuffer.wrap(b).putLong(at, value);
    } else {
      ByteBuffer.wrap(b).putInt(at, (int) value);
    }
    return resealed(b);
  }

  private long recordAt(int record) {
    return tar.get("index.bin").data() + INDEX_HEADER + (long) record * INDEX_RECORD;
  }

  @Test
  void anIndexRecordNamingNoDiskIsNamedAtItsRecord() throws Exception {
    // record: u64 guest offset, u32 raw, u32 stored, u32 crc, u16 disk (at 20), u8 codec, u8 zero
    assertAt(firstError(editedRecord(3, 20, 0x7fff0000, false)), "index.bin", recordAt(3));
  }

  @Test
  void aChunkOutOfItsDisksRangeIsNamedAtItsRecordWithItsDiskAndOffset() throws Exception {
    ArchiveException e = firstError(editedRecord(1, 0, 1L << 40, true));
    assertAt(e, "index.bin", recordAt(1));
    assertEquals(Optional.of("vda"), e.disk());
    assertEquals(OptionalLong.of(1L << 40), e.offset());
  }

  @Test
  void aChunkTooLargeIsNamedAtItsRecordWithItsDiskAndOffset() throws Exception {
    ArchiveException e = firstError(editedRecord(4, 8, Integer.MAX_VALUE, false));
    assertAt(e, "index.bin", recordAt(4));
    TarBlocks.Entry chunk = tar.chunks().get(4);
    assertEquals(Optional.of(chunk.disk()), e.disk());
    assertEquals(OptionalLong.of(chunk.guestOffset()), e.offset());
  }

  @Test
  void chunksThatNoLongerTileTheArchiveAreNamedAtTheIndexHeader() throws Exception {
    // the first chunk's stored length shrinks: the chunks the index lists end before index.bin's header
    assertAt(firstError(editedRecord(0, 12, 100, false)), "index.bin", tar.get("index.bin").header());
  }

  @Test
  void anIndexHeaderWithAnotherCountIsNamedAtTheIndexData() throws Exception {
    byte[] b = bytes.clone();
    ByteBuffer.wrap(b).putInt((int) tar.get("index.bin").data() + 12, 4); // u32 record count
    assertAt(firstError(resealed(b)), "index.bin", tar.get("index.bin").data());
  }

  @Test
  void aChunkFailingItsChecksumIsNamedAtItsData() throws Exception {
    TarBlocks.Entry chunk = tar.chunks().get(2);
    List<ArchiveException> errors = errors(Files.write(dir.resolve("flip.tar"), flipped(bytes, chunk.data() + 999)));
    assertEquals(1, errors.size(), errors.toString());
    assertChunk(errors.get(0), chunk, chunk.data());
  }

  @Test
  void aFileCutBeforeAHeaderIsNamedAtTheFirstByteThatShouldBeZero() throws Exception {
    long cut = tar.chunks().get(3).header();
    byte[] b = Arrays.copyOf(bytes, (int) cut);
    long firstNonZero = cut - 1024;
    while (b[(int) firstNonZero] == 0) {
      firstNonZero++;
    }
    ArchiveException e = firstError(b);
    assertEquals(OptionalLong.of(firstNonZero), e.fileOffset(), e.getMessage());
    assertEquals(Optional.empty(), e.entry());
  }

  @Test
  void aFileCutInsideARecordIsNamedAtThatRecord() throws Exception {
    long record = tar.chunks().get(1).data() + 512;
    ArchiveException e = firstError(Arrays.copyOf(bytes, (int) record + 300));
    assertEquals(OptionalLong.of(record), e.fileOffset(), e.getMessage());
  }

  /** Format version 1: the chunks' data offsets are in index.json, each checked against the layout. */
  @ParameterizedTest
  @CsvSource({"0", "4"})
  void aVersionOneIndexPlacingAChunkElsewhereNamesTheChunkAtItsHeader(int chunk) throws Exception {
    Path v1 = Files.write(dir.resolve("v1.tar"), ArchiveFixtures.asVersionOne(sound, false));
    TarBlocks v1Tar = TarBlocks.of(v1);
    TarBlocks.Entry c = v1Tar.chunks().get(chunk);
    byte[] b = Files.readAllBytes(v1);
    String text = new String(b, StandardCharsets.ISO_8859_1);
    String from = "\"dataOffset\" : " + c.data(); // index.json is indented, as version 1 wrote it
    String to = "\"dataOffset\" : " + (c.data() + 512);
    int at = text.indexOf(from, (int) v1Tar.get("index.json").data());
    assertTrue(at > 0 && from.length() == to.length(), from);
    System.arraycopy(to.getBytes(StandardCharsets.US_ASCII), 0, b, at, to.length());
    assertChunk(firstError(resealed(b)), c, c.header());
  }

  @Test
  void aVersionOneIndexThatIsNotJsonIsNamedAtItsData() throws Exception {
    Path v1 = Files.write(dir.resolve("v1.tar"), ArchiveFixtures.asVersionOne(sound, false));
    TarBlocks.Entry index = TarBlocks.of(v1).get("index.json");
    byte[] b = Files.readAllBytes(v1);
    b[(int) index.data()] = 'x'; // was '{'
    assertAt(firstError(resealed(b)), "index.json", index.data());
  }

  /** Verify's findings carry the same places: a finding is made of the error's fields. */
  @Test
  void verifyFindingsCarryTheEntryAndFileOffset() throws Exception {
    TarBlocks.Entry chunk = tar.chunks().get(1);
    Path p = Files.write(dir.resolve("flip.tar"), flipped(bytes, chunk.data() + 7));
    List<Finding> findings = ArchiveVerifier.verify(p);
    assertEquals(1, findings.size(), findings.toString());
    assertChunkFinding(findings.get(0), chunk);
  }

  /**
   * The consistency rules' findings name their entry too: a manifest edited and resealed so that
   * vda's extents stop at 128 KiB of its 192. Its last chunk, now outside the data extents, is named
   * at its own entry, as GNU tar places it (header block, data one record later, disk and guest
   * offset from the name); the bytes the full disk leaves uncovered at manifest.json's data.
   */
  @Test
  void consistencyFindingsNameTheChunkEntryOrTheManifest() throws Exception {
    Tampering.rewriteManifest(sound, m -> Tampering.withDisk(m, "vda",
        d -> Tampering.withExtents(d, List.of(new ExtentRecord(0, 128 << 10, false)))));
    TarBlocks resealed = TarBlocks.of(sound);
    List<Finding> findings;
    try (ArchiveReader r = ArchiveReader.open(sound)) {
      findings = ArchiveConsistency.check(r);
    }
    assertEquals(2, findings.size(), findings.toString());
    Finding uncovered = findings.get(0);
    assertTrue(uncovered.problem().contains("uncovered"), uncovered.toString());
    assertEquals(Optional.of("manifest.json"), uncovered.entry(), uncovered.toString());
    assertEquals(OptionalLong.of(resealed.get("manifest.json").data()), uncovered.fileOffset(), uncovered.toString());
    assertEquals(Optional.of("vda"), uncovered.disk());
    assertEquals(OptionalLong.of(128 << 10), uncovered.offset());
    Finding outside = findings.get(1);
    assertTrue(outside.problem().contains("outside the disk's data extents"), outside.toString());
    assertChunkFinding(outside, resealed.chunks().stream()
        .filter(c -> c.disk().equals("vda") && c.guestOffset() == 128 << 10).findFirst().orElseThrow());
  }

  private static void assertChunkFinding(Finding f, TarBlocks.Entry chunk) {
    assertEquals(Optional.of(chunk.name()), f.entry(), f.toString());
    assertEquals(OptionalLong.of(chunk.data()), f.fileOffset(), f.toString());
    assertEquals(Optional.of(chunk.disk()), f.disk(), f.toString());
    assertEquals(OptionalLong.of(chunk.guestOffset()), f.offset(), f.toString());
  }
}
