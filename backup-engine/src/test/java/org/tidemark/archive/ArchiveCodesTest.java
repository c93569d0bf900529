package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tidemark.internal.JsonText;
import org.tidemark.internal.JsonText.JsonShapeException;

/**
 * The typed fields of the archive records (disk kind and decision, chunk codec, parent) keep the JSON
 * the format documents: the codes written are the documented strings, and an unknown code in an
 * archive read is a corrupt archive naming the archive and the field.
 */
class ArchiveCodesTest {
  @TempDir Path dir;

  /** A manifest as docs/archive-format.md describes it, written by hand. */
  private static final String MANIFEST = "{\"format\":\"tidemark-backup\",\"formatVersion\":2,\"toolVersion\":\"0.1\","
      + "\"domain\":\"vm1\",\"checkpoint\":\"cp2\",\"created\":1700000000,"
      + "\"parent\":{\"checkpoint\":\"cp1\",\"archive\":\"cp1.tar\"},\"disks\":["
      + "{\"name\":\"vda\",\"kind\":\"incremental\",\"decision\":\"incremental\",\"reason\":\"changed\","
      + "\"virtualSize\":4096,\"granularity\":512,\"extents\":[{\"offset\":0,\"length\":512,\"zero\":false}]},"
      + "{\"name\":\"vdb\",\"kind\":\"full\",\"decision\":\"bitmap-in-use\",\"reason\":\"in use\","
      + "\"virtualSize\":512,\"granularity\":512,\"extents\":[{\"offset\":0,\"length\":512,\"zero\":true}]},"
      + "{\"name\":\"vdc\",\"kind\":\"full\",\"decision\":\"consolidated\",\"reason\":\"merged\","
      + "\"virtualSize\":512,\"granularity\":512,\"extents\":[]}]}";

  private static final String INDEX = "{\"chunks\":["
      + "{\"disk\":\"vda\",\"offset\":0,\"rawLength\":512,\"storedLength\":100,\"codec\":\"zstd\",\"crc32c\":7,"
      + "\"dataOffset\":1536},"
      + "{\"disk\":\"vda\",\"offset\":512,\"rawLength\":512,\"storedLength\":512,\"codec\":\"none\",\"crc32c\":-8,"
      + "\"dataOffset\":2560},"
      + "{\"disk\":\"vdb\",\"offset\":0,\"rawLength\":512,\"storedLength\":90,\"codec\":\"deflate\",\"crc32c\":9,"
      + "\"dataOffset\":3584}]}";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void theDocumentedStringsReadAsTheirConstantsAndAreWrittenBackByteForByte() throws Exception {
    Manifest m = ArchiveJson.readManifest(utf8(MANIFEST));
    assertEquals(Optional.of(new ParentRef("cp1", "cp1.tar")), m.parent());
    assertEquals(List.of(DiskDecision.Kind.INCREMENTAL, DiskDecision.Kind.FULL, DiskDecision.Kind.FULL),
        m.disks().stream().map(DiskManifest::kind).toList());
    assertEquals(List.of(DiskDecision.INCREMENTAL, DiskDecision.BITMAP_IN_USE, DiskDecision.CONSOLIDATED),
        m.disks().stream().map(DiskManifest::decision).toList());
    // The generic JSON writer on the hand-written document gives the bytes the typed writer must give.
    assertArrayEquals(JsonText.write(JsonText.parse(utf8(MANIFEST))), ArchiveJson.manifest(m));

    List<ChunkRecord> chunks = ArchiveJson.readIndex(utf8(INDEX)).chunks();
    assertEquals(List.of(Codec.ZSTD, Codec.NONE, Codec.DEFLATE), chunks.stream().map(ChunkRecord::codec).toList());
    assertArrayEquals(JsonText.write(JsonText.parse(utf8(INDEX))), ArchiveJson.index(chunks));
  }

  @Test
  void aFullManifestHasNoParentField() throws Exception {
    String full = MANIFEST.replace("\"parent\":{\"checkpoint\":\"cp1\",\"archive\":\"cp1.tar\"},", "")
        .replace("\"kind\":\"incremental\",\"decision\":\"incremental\"", "\"kind\":\"full\",\"decision\":\"new-disk\"");
    Manifest m = ArchiveJson.readManifest(utf8(full));
    assertEquals(Optional.empty(), m.parent());
    assertArrayEquals(JsonText.write(JsonText.parse(utf8(full))), ArchiveJson.manifest(m));
  }

  @ParameterizedTest
  @CsvSource({
    "disks[0].kind, \"kind\":\"incremental\", \"kind\":\"Incremental\"",
    "disks[1].kind, \"kind\":\"full\", \"kind\":\"skipped\"",
    "disks[0].decision, \"decision\":\"incremental\", \"decision\":\"incrementa\"",
    "disks[2].decision, \"decision\":\"consolidated\", \"decision\":\"excludedd\"",
  })
  void anUnknownCodeInTheManifestIsRefusedAtItsField(String field, String from, String to) {
    String bad = MANIFEST.replaceFirst(java.util.regex.Pattern.quote(from), to);
    JsonShapeException e = assertThrows(JsonShapeException.class, () -> ArchiveJson.readManifest(utf8(bad)));
    assertTrue(e.getMessage().startsWith(field + ": "), e.getMessage());
  }

  @Test
  void anUnknownCodecInTheIndexIsRefusedAtItsField() {
    String bad = INDEX.replace("\"codec\":\"deflate\"", "\"codec\":\"gzip\"");
    JsonShapeException e = assertThrows(JsonShapeException.class, () -> ArchiveJson.readIndex(utf8(bad)));
    assertEquals("chunks[2].codec: unknown codec 'gzip' (expected one of [none, zstd, deflate])", e.getMessage());
  }

  /** Same-length edits of a real archive's metadata, resealed: the reader names the archive, the entry and the field. */
  @ParameterizedTest
  @CsvSource({
    "false, manifest.json, disks[0].kind, \"full\", \"FULL\"",
    "false, manifest.json, disks[0].decision, \"no-base-backup\", \"no-base-backuq\"",
    "true, index.json, chunks[0].codec, \"none\", \"nonf\"",
  })
  void anArchiveWithAnUnknownCodeIsCorrupt(boolean versionOne, String entry, String field, String from, String to)
      throws Exception {
    ArchiveFixtures.Disk disk = ArchiveFixtures.Disk.dense("vda", 5, 1 << 16);
    Path good = ArchiveFixtures.write(dir.resolve("good.tar"), List.of(disk), 32 << 10, Codec.ZSTD);
    byte[] bytes = versionOne ? ArchiveFixtures.asVersionOne(good, false) : Files.readAllBytes(good);
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    int at = text.indexOf(from);
    assertTrue(at > 0 && from.length() == to.length(), from + " is in the archive");
    byte[] tampered = ArchiveReaderFuzzTest.reseal(
        (text.substring(0, at) + to + text.substring(at + from.length())).getBytes(StandardCharsets.ISO_8859_1));
    Path bad = Files.write(dir.resolve("bad.tar"), tampered);
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> ArchiveReader.open(bad).close());
    assertEquals(bad, e.archive());
    assertEquals(Optional.of(entry), e.entry());
    assertTrue(e.getMessage().contains(field + ": unknown "), e.getMessage());
  }
}
