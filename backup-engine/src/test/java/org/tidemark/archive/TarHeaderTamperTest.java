package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Verify checks every tar header against what the writer writes, so that {@code tar x} of a
 * verified archive creates regular files only. Each hostile edit is made to a real archive with
 * the header's checksum fixed, and GNU tar's listing shows that tar takes the entry for what the
 * edit made of it (a link, a device node, a FIFO, a setuid file): the edit is real, and verify
 * must report it.
 */
class TarHeaderTamperTest {
  @TempDir Path dir;

  private Path sound() throws IOException {
    return ArchiveFixtures.write(dir.resolve("sound.tar"), List.of(ArchiveFixtures.Disk.dense("vda", 3, 8192)), 4096,
        Codec.NONE);
  }

  /**
   * GNU tar's verbose listing of an archive, one line per entry (and its complaints: a hard link
   * has no data for tar, so tar reads the data of a chunk turned into one as the next header,
   * skips it and exits 2, having listed, or extracted, the link).
   */
  static List<String> tarList(Path archive, boolean clean) throws Exception {
    Process p = new ProcessBuilder("tar", "tvf", archive.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    if (clean) {
      assertEquals(0, p.exitValue(), out);
    }
    return out.lines().toList();
  }

  private static String lineOf(List<String> listing, String entry) {
    return listing.stream().filter(l -> l.contains(" " + entry)).findFirst().orElseThrow(
        () -> new AssertionError("tar does not list " + entry + ": " + listing));
  }

  @Test
  void tarListsOnlyRegularFilesOfTheWritersModeAndVerifyAgrees() throws Exception {
    // small chunks, a large one (PAX alignment comment), a long UTF-8 disk name (PAX path)
    String utf8 = "диск-ü-" + "y".repeat(100);
    Path archive = ArchiveFixtures.write(dir.resolve("cp1.tar"), List.of(ArchiveFixtures.Disk.dense("vda", 3, 8192),
        ArchiveFixtures.Disk.dense("vdb", 4, 3 << 20), ArchiveFixtures.Disk.dense(utf8, 5, 4096)), 2 << 20, Codec.NONE);
    List<String> listing = tarList(archive, true);
    int chunks;
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      chunks = r.chunks().size();
    }
    assertEquals(chunks + 4, listing.size(), listing.toString());
    for (String line : listing) {
      assertTrue(line.startsWith("-rw-r--r-- 0/0 "), line); // a regular file, rw-r--r--, owner 0/0
    }
    assertTrue(listing.stream().anyMatch(l -> l.contains("disks/" + utf8 + "/")), listing.toString());
    assertEquals(List.of(), ArchiveVerifier.verify(archive));
  }

  @ParameterizedTest
  @EnumSource(TarTamper.class)
  void aTamperedChunkHeaderIsFound(TarTamper tamper) throws Exception {
    Path sound = sound();
    ChunkRecord c;
    try (ArchiveReader r = ArchiveReader.open(sound)) {
      c = r.chunks().get(1);
    }
    String entry = ArchiveWriter.chunkEntryName(c.disk(), c.offset(), Codec.NONE);
    int at = (int) c.dataOffset() - TarHeaders.RECORD;
    Path archive = Files.write(dir.resolve("tampered.tar"), tamper.apply(Files.readAllBytes(sound), at));

    String line = lineOf(tarList(archive, false), entry);
    assertEquals(tamper.tarListing, line.charAt(0), line);
    if (tamper == TarTamper.SETUID) {
      assertTrue(line.startsWith("-rwsrwxrwx"), line);
    }
    List<Finding> findings = ArchiveVerifier.verify(archive);
    assertEquals(1, findings.size(), findings.toString());
    String problem = findings.get(0).problem();
    assertTrue(problem.startsWith("tar header of '" + entry + "' at " + at + ": ") && problem.contains(tamper.problem),
        problem);
  }

  @ParameterizedTest
  @EnumSource(TarTamper.class)
  void aTamperedMetadataHeaderIsFound(TarTamper tamper) throws Exception {
    Path sound = sound();
    int at = (int) TarHeaders.padded(ArchiveFixtures.CHECKPOINT.length) + TarHeaders.RECORD; // manifest.json's header
    Path archive = Files.write(dir.resolve("tampered.tar"), tamper.apply(Files.readAllBytes(sound), at));
    assertEquals(tamper.tarListing, lineOf(tarList(archive, false), ArchiveWriter.MANIFEST_ENTRY).charAt(0));
    List<Finding> findings = ArchiveVerifier.verify(archive);
    assertEquals(1, findings.size(), findings.toString());
    assertTrue(findings.get(0).problem().contains(ArchiveWriter.MANIFEST_ENTRY), findings.toString());
  }

  @Test
  void aPaxRecordTheWriterDoesNotWriteIsFound() throws Exception {
    // the alignment comment of a large chunk turned into a link path of the same length
    Path sound = ArchiveFixtures.write(dir.resolve("large.tar"), List.of(ArchiveFixtures.Disk.dense("vda", 6, 2 << 20)),
        2 << 20, Codec.NONE);
    byte[] b = Files.readAllBytes(sound);
    String text = new String(b, StandardCharsets.ISO_8859_1);
    int at = text.indexOf(" comment=xxxx");
    assertTrue(at > 0);
    byte[] edit = " linkpath=/etc/shadow".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(edit, 0, b, at, edit.length);
    Path archive = Files.write(dir.resolve("tampered.tar"), b);
    tarList(archive, true); // still an archive tar reads without complaint
    List<Finding> findings = ArchiveVerifier.verify(archive);
    assertEquals(1, findings.size(), findings.toString());
    assertTrue(findings.get(0).problem().contains("PAX extended header: record 'linkpath' (the writer writes only"
        + " [comment, path])"), findings.toString());
  }
}
