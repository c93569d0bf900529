package org.tidemark.consolidate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveCorruptException;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.ChunkRecord;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.backup.Progress;
import org.tidemark.restore.PlanCopy;

/**
 * What a consolidation checks before the swap, on a real chain ({@link QemuChain}). Without a
 * read-back: a corrupt chunk of the chain is refused even where the new archive would take it as it
 * is (copied, not decoded and encoded again), and the old archive stays. With {@link
 * ConsolidateRequest#readBack}: bytes of the new archive damaged after they were written (as a
 * device could) are found before the swap and the old archive stays; without it the same damage is
 * committed and {@code verify} finds it afterwards (the price of not reading the data back).
 */
class ConsolidateCheckTest {
  @TempDir static Path shared;
  static QemuChain chain;

  @TempDir Path dir;

  @BeforeAll
  static void buildChain() throws Exception {
    chain = QemuChain.build(shared, 31, 16, 8);
  }

  private static List<String> hidden(Repository repo) throws IOException {
    try (Stream<Path> s = Files.list(repo.domainDir(QemuChain.DOMAIN))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") && !n.equals(RepositoryLock.FILE_NAME))
          .toList();
    }
  }

  @Test
  void aCorruptChunkOfTheChainIsRefusedWhereItWouldBeCopiedAsItIs() throws Exception {
    Repository repo = chain.copyRepository(dir.resolve("repo"));
    Path cp7 = repo.domainDir(QemuChain.DOMAIN).resolve("cp7.tar");
    // a chunk of cp7's own archive that the new full archive takes as it is
    ChunkRecord victim = null;
    List<ArchiveReader> readers = new ArrayList<>();
    try {
      List<RestorePlanner.Layer> layers = PlanCopy.openChain(repo.chain(QemuChain.DOMAIN, Optional.of("cp7")), readers);
      for (String d : QemuChain.DISKS) {
        for (RestorePiece p : RestorePlanner.plan(d, layers).pieces()) {
          if (victim == null && p.source() == 0 && FullChunker.copied(p, Codec.ZSTD, ArchiveWriter.DEFAULT_CHUNK)) {
            victim = p.chunk();
          }
        }
      }
    } finally {
      for (ArchiveReader r : readers) {
        r.close();
      }
    }
    assertTrue(victim != null, "cp7 has a chunk the consolidation copies");
    byte[] bytes = Files.readAllBytes(cp7);
    bytes[(int) (victim.dataOffset() + victim.storedLength() / 2)] ^= 0x10;
    Files.write(cp7, bytes);

    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> new Consolidator(repo).run(
        ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp7"), "test"), Progress.NONE));
    assertEquals(cp7, e.archive(), e.getMessage());
    assertTrue(e.getMessage().contains("guest offset " + victim.offset()), e.getMessage());
    assertArrayEquals(bytes, Files.readAllBytes(cp7), "the old archive stays");
    assertEquals(List.of(), hidden(repo), "no temporary file left");
  }

  /**
   * A progress that, as soon as the pending archive holds the first chunk, flips a byte of its data.
   */
  private static final class Damage implements Progress {
    private final Path folder;
    long damagedAt = -1;

    Damage(Path folder) {
      this.folder = folder;
    }

    @Override
    public void advance(long bytes) {
      if (damagedAt >= 0) {
        return;
      }
      try (Stream<Path> s = Files.list(folder)) {
        Path pending = s.filter(p -> p.getFileName().toString().contains(".tmp-")).findFirst().orElseThrow();
        try (FileChannel ch = FileChannel.open(pending, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
          // the first chunk's tar header: a regular file entry named disks/...; its data follows it
          ByteBuffer record = ByteBuffer.allocate(512);
          long header = 0;
          long size = ch.size();
          while (true) {
            if (header + 1024 > size) {
              return; // not written yet (small entries are staged): at the next chunk
            }
            ch.read(record.clear(), header);
            String name = new String(record.array(), 0, 6, java.nio.charset.StandardCharsets.US_ASCII);
            if (name.equals("disks/") && record.get(156) == '0') {
              break;
            }
            header += 512;
          }
          long at = header + 512 + 100;
          if (at >= size) {
            return;
          }
          ByteBuffer b = ByteBuffer.allocate(1);
          ch.read(b, at);
          b.put(0, (byte) (b.get(0) ^ 0x10));
          ch.write(b.rewind(), at);
          damagedAt = at;
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  @Test
  void aReadBackFindsDamageDoneToTheNewArchiveAfterItsWritesAndKeepsTheOldOne() throws Exception {
    Repository checked = chain.copyRepository(dir.resolve("read-back"));
    Path cp7 = checked.domainDir(QemuChain.DOMAIN).resolve("cp7.tar");
    byte[] before = Files.readAllBytes(cp7);
    Damage damage = new Damage(checked.domainDir(QemuChain.DOMAIN));
    ArchiveInconsistentException e = assertThrows(ArchiveInconsistentException.class, () -> new Consolidator(checked)
        .run(ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp7"), "test").withReadBack(true), damage));
    assertTrue(damage.damagedAt > 0);
    assertTrue(e.getMessage().contains("checksum mismatch") || e.getMessage().contains("does not decompress"),
        e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(cp7), "the old archive stays");
    assertEquals(List.of(), hidden(checked), "no temporary file left");

    // without the read-back the same damage (the same bytes: the chain and the writes are the same) goes
    // unseen until a verify
    Repository unchecked = chain.copyRepository(dir.resolve("structure-only"));
    Damage same = new Damage(unchecked.domainDir(QemuChain.DOMAIN));
    ConsolidateResult r = new Consolidator(unchecked).run(ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp7"),
        "test"), same);
    assertTrue(r.consolidated());
    assertEquals(damage.damagedAt, same.damagedAt);
    List<Finding> findings = ArchiveVerifier.verify(r.archive());
    assertEquals(1, findings.size(), findings.toString());
    assertTrue(findings.get(0).problem().contains("checksum mismatch")
        || findings.get(0).problem().contains("does not decompress"), findings.toString());
    try (ArchiveReader a = ArchiveReader.open(r.archive())) {
      assertFalse(a.manifest().parent().isPresent());
    }
  }
}
