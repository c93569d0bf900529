package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Archive errors carry where they are as fields, not only in their text: a damaged chunk names
 * its archive, disk and guest offset through accessors, and a finding takes them from there.
 */
class ArchiveExceptionFieldsTest {
  @TempDir Path dir;

  @Test
  void aDamagedChunkNamesItsArchiveDiskAndOffsetAsFields() throws Exception {
    Path archive = ArchiveFixtures.write(dir.resolve("a.tar"),
        List.of(ArchiveFixtures.Disk.dense("vda", 3, 3 << 20)), 1 << 20, Codec.NONE);
    ChunkRecord second;
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      second = r.chunks().get(1);
    }
    try (FileChannel ch = FileChannel.open(archive, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}), second.dataOffset() + 4096);
    }
    ArchiveCorruptException e;
    try (ArchiveReader r = ArchiveReader.open(archive)) {
      e = assertThrows(ArchiveCorruptException.class,
          () -> r.readChunk(second, ByteBuffer.allocate(second.rawLength())));
    }
    assertEquals(archive, e.archive());
    assertEquals(Optional.of("vda"), e.disk());
    assertEquals(OptionalLong.of(second.offset()), e.offset());
    assertTrue(e.detail().contains("checksum mismatch"), e.detail());
    assertFalse(e.detail().contains(archive.toString()), "the detail does not repeat the path: " + e.detail());
    assertEquals(archive + ": " + e.detail(), e.getMessage(), "the message text is as before");

    Finding f = Finding.of(e);
    assertEquals(new Finding(archive, new ArchiveException.Where(Optional.of("disks/vda/0000000000100000.raw"),
        Optional.of("vda"), OptionalLong.of(second.offset()), OptionalLong.of(second.dataOffset())), e.detail()), f);
    assertEquals(List.of(f), ArchiveVerifier.verify(archive));
  }

  @Test
  void aFindingOfAnErrorAboutTheWholeArchiveHasNoDiskOrOffset() {
    Path p = dir.resolve("x.tar");
    // a message that happens to start like a path is kept whole: nothing is stripped from text
    ArchiveException e = new ArchiveException(p, p + ": odd");
    assertEquals(new Finding(p, Optional.empty(), OptionalLong.empty(), p + ": odd"), Finding.of(e));
    assertEquals(ArchiveException.Where.ARCHIVE, e.where());
    assertEquals(Optional.of("manifest.json"), ArchiveException.Where.entry("manifest.json").entry());
  }

  /** A library message names no command of the CLI: the findings past the first few are left to a verify. */
  @Test
  void anInconsistentArchiveCountsTheFindingsItDoesNotSpellOutWithoutCliWording() {
    Path p = dir.resolve("x.tar");
    List<Finding> findings = java.util.stream.IntStream.range(0, ArchiveInconsistentException.SHOWN + 2)
        .mapToObj(i -> Finding.at(p, "vda", i * 512L, "problem " + i)).toList();
    ArchiveInconsistentException e = new ArchiveInconsistentException(p, findings);
    assertTrue(e.getMessage().endsWith("(and 2 more problems; a verify of the archive lists them all)"), e.getMessage());
    assertFalse(e.getMessage().contains("tidemark "), e.getMessage());
    assertEquals(findings, e.findings());
  }
}
