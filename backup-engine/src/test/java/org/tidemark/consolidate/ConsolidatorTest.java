package org.tidemark.consolidate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.ArchiveCorruptException;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Chains;
import org.tidemark.archive.ChunkRecord;
import org.tidemark.archive.Codec;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.RepositoryLockedException;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;
import org.tidemark.backup.Progress;
import org.tidemark.disk.Extent;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.PlanCopy;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.restore.RestoreTarget;

/**
 * Consolidation of a real {@value QemuChain#POINTS}-point chain whose disks fall back to full at
 * different points ({@link QemuChain}): for every point k, on a fresh copy of the repository,
 * after consolidating k its archive is a full one under the same name whose chain is itself alone;
 * k and every later point restore identical to QEMU's copies of the disks at those points ({@code
 * qemu-img compare}); every archive verifies and every chain resolves with sound links; the other
 * archives are untouched; zero ranges stay holes (the new archive stores no more data than the
 * source had allocated).
 *
 * <p>What it checks before the swap: a corrupt chunk of the chain is refused even where the new
 * archive would take it as it is (copied, not decoded and encoded again), and the old archive stays.
 * With {@link ConsolidateRequest#readBack}, bytes of the new archive damaged after they were written
 * (as a device could) are found before the swap and the old archive stays; without it the same damage
 * is committed and {@code verify} finds it afterwards (the price of not reading the data back).
 */
class ConsolidatorTest {
  @TempDir static Path shared;
  static QemuChain chain;

  @TempDir Path dir;

  @BeforeAll
  static void buildChain() throws Exception {
    chain = QemuChain.build(shared, 19, 24, 12);
  }

  /** A copy of the chain's repository under {@code to}, the fixture's raw copies still in place. */
  private Repository copyRepository(Path to) throws Exception {
    return chain.copyRepository(to);
  }

  private static Path archive(Repository repo, int p) {
    return repo.domainDir(QemuChain.DOMAIN).resolve("cp" + p + Repository.SUFFIX);
  }

  /** Restores point {@code p} and compares each disk with QEMU's copy at that point. */
  private static void assertRestoresIdentical(Repository repo, int p, Path out, String what) throws Exception {
    new RestoreRunner(repo).run(RestoreRequest.builder(QemuChain.DOMAIN).checkpoint("cp" + p).build(), RestoreTarget.folder(out, false),
        Progress.NONE);
    for (String d : QemuChain.DISKS) {
      String said = Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", chain.copy(p, d).toString(),
          out.resolve(d + ".raw").toString());
      assertEquals("", said.strip(), what + ": cp" + p + " " + d);
    }
  }

  /** Every archive verifies, every point's chain resolves and its links hold. */
  private static void assertRepositorySound(Repository repo, String what) throws Exception {
    Chains chains = repo.chains(QemuChain.DOMAIN);
    assertEquals(List.of(), chains.scan().unreadable(), what);
    assertEquals(QemuChain.POINTS, chains.scan().backups().size(), what);
    assertEquals(List.of(), chains.linkFindings(), what);
    for (StoredBackup b : chains.scan().backups()) {
      assertEquals(List.of(), ArchiveVerifier.verify(b.path()), what + ": " + b.id());
      chains.chain(Optional.of(b.checkpoint()));
    }
    try (var s = Files.list(repo.domainDir(QemuChain.DOMAIN))) {
      assertEquals(List.of(), s.map(x -> x.getFileName().toString())
          .filter(n -> n.startsWith(".") && !n.equals(RepositoryLock.FILE_NAME)).toList(), what + ": no temporary file left");
    }
  }

  private static long dataBytes(List<Extent> map) {
    return map.stream().filter(e -> !e.zero()).mapToLong(Extent::length).sum();
  }

  @Test
  void everyPointConsolidatedRestoresIdenticalAndSoDoEveryLaterPoint() throws Exception {
    for (int k = 2; k <= QemuChain.POINTS; k++) {
      Repository repo = copyRepository(dir.resolve("repo-" + k));
      String what = "consolidated cp" + k;
      Manifest before;
      try (ArchiveReader r = ArchiveReader.open(archive(repo, k))) {
        before = r.manifest();
      }
      List<StoredBackup> oldChain = repo.chain(QemuChain.DOMAIN, Optional.of("cp" + k));
      assertTrue(oldChain.size() > 1, what + ": an incremental point to begin with");
      Map<String, byte[]> others = new TreeMap<>();
      for (int p = 1; p <= QemuChain.POINTS; p++) {
        if (p != k) {
          others.put("cp" + p, Files.readAllBytes(archive(repo, p)));
        }
      }

      byte[] xmlBefore;
      try (ArchiveReader r = ArchiveReader.open(archive(repo, k))) {
        xmlBefore = r.checkpointXml();
      }
      assertTrue(new String(xmlBefore, StandardCharsets.UTF_8).contains("<name>cp" + k + "</name>"), what);

      ConsolidateResult result = new Consolidator(repo).run(
          ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp" + k), "test"), Progress.NONE);

      assertTrue(result.consolidated(), what);
      // the chain's zstd chunks of 1 MiB that cp k takes whole are copied as they are
      assertTrue(result.disks().stream().mapToInt(ConsolidateResult.DiskResult::chunksCopied).sum() > 0, what);
      assertEquals(archive(repo, k), result.archive(), what);
      assertEquals(oldChain.stream().map(StoredBackup::path).toList(), result.chain(), what);
      List<StoredBackup> newChain = repo.chain(QemuChain.DOMAIN, Optional.of("cp" + k));
      assertEquals(List.of("cp" + k + ".tar"), newChain.stream().map(StoredBackup::id).toList(),
          what + ": the old bases are no longer in its chain");
      try (ArchiveReader r = ArchiveReader.open(archive(repo, k))) {
        Manifest m = r.manifest();
        assertEquals(Optional.empty(), m.parent(), what);
        assertEquals(before.checkpoint(), m.checkpoint(), what);
        assertEquals(before.domain(), m.domain(), what);
        assertEquals(before.created(), m.created(), what);
        assertArrayEquals(xmlBefore, r.checkpointXml(), what + ": the same checkpoint XML");
        assertEquals(QemuChain.DISKS, m.disks().stream().map(DiskManifest::name).toList(), what);
        for (DiskManifest d : m.disks()) {
          assertTrue(d.isFull(), what + " " + d.name());
          assertEquals(Consolidator.DECISION, d.decision(), what);
          assertEquals(before.disk(d.name()).orElseThrow().virtualSize(), d.virtualSize(), what);
          assertTrue(d.reason().contains("cp" + k + ".tar"), d.reason());
        }
        for (ChunkRecord c : r.chunks()) {
          assertTrue(c.codec() == Codec.ZSTD || c.codec() == Codec.NONE, what + ": " + c);
        }
        // holes stay holes: no more data stored than the qcow2 had allocated at that point
        for (String d : QemuChain.DISKS) {
          long stored = m.disk(d).orElseThrow().dataBytes();
          Path q = dir.resolve("map-" + k + "-" + d + ".qcow2");
          Qemu.run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", chain.copy(k, d).toString(), q.toString());
          long allocated = dataBytes(Qemu.map(q));
          assertTrue(stored <= allocated + (1 << 20), what + " " + d + ": " + stored + " bytes of data stored, "
              + allocated + " allocated in QEMU's copy");
          assertTrue(m.disk(d).orElseThrow().extents().stream().anyMatch(x -> x.zero()), what + " " + d + ": holes remain");
        }
      }
      for (Map.Entry<String, byte[]> e : others.entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(repo.domainDir(QemuChain.DOMAIN).resolve(e.getKey() + ".tar")),
            what + ": " + e.getKey() + " untouched");
      }
      assertRepositorySound(repo, what);
      for (int p = k; p <= QemuChain.POINTS; p++) {
        assertRestoresIdentical(repo, p, dir.resolve("restore-" + k + "-" + p), what);
      }
    }
  }

  @Test
  void consolidationsOneAfterAnotherAndInAnotherCodecKeepEveryPointRestorable() throws Exception {
    Repository repo = copyRepository(dir.resolve("repo"));
    List<String> order = List.of("cp5", "cp7", "cp3", "cp6");
    for (String cp : order) {
      ConsolidateResult r = new Consolidator(repo).run(new ConsolidateRequest(QemuChain.DOMAIN, Optional.of(cp),
          Codec.DEFLATE, 256 << 10, "test"), Progress.NONE);
      // the first one reads zstd chunks only, not the codec asked for: it copies only chunks stored uncompressed
      // (later ones also copy the deflate chunks of the points consolidated before them)
      int copied = r.disks().stream().mapToInt(ConsolidateResult.DiskResult::chunksCopied).sum();
      try (ArchiveReader a = ArchiveReader.open(repo.domainDir(QemuChain.DOMAIN).resolve(cp + ".tar"))) {
        assertTrue(!cp.equals(order.get(0))
            || copied <= a.chunks().stream().filter(c -> c.codec() == Codec.NONE).count(), cp);
      }
    }
    assertRepositorySound(repo, "after " + order);
    for (String cp : order) {
      assertEquals(1, repo.chain(QemuChain.DOMAIN, Optional.of(cp)).size(), cp);
      try (ArchiveReader r = ArchiveReader.open(repo.domainDir(QemuChain.DOMAIN).resolve(cp + ".tar"))) {
        assertTrue(r.chunks().stream().allMatch(c -> c.codec() == Codec.DEFLATE
            || c.codec() == Codec.NONE), cp);
        assertTrue(r.chunks().stream().allMatch(c -> c.rawLength() <= 256 << 10), cp + ": the chunk size asked for");
      }
    }
    assertEquals(List.of("cp4.tar", "cp3.tar"), repo.chain(QemuChain.DOMAIN, Optional.of("cp4")).stream()
        .map(StoredBackup::id).toList(), "cp4 now builds on the consolidated cp3");
    for (int p = 1; p <= QemuChain.POINTS; p++) {
      assertRestoresIdentical(repo, p, dir.resolve("restore-" + p), "after " + order);
    }
    // consolidating a full point, or the newest point once more, changes nothing
    byte[] cp1 = Files.readAllBytes(archive(repo, 1));
    ConsolidateResult full = new Consolidator(repo).run(ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp1"),
        "test"), Progress.NONE);
    assertFalse(full.consolidated());
    assertArrayEquals(cp1, Files.readAllBytes(archive(repo, 1)));
    byte[] cp7 = Files.readAllBytes(archive(repo, 7));
    ConsolidateResult newest = new Consolidator(repo).run(ConsolidateRequest.of(QemuChain.DOMAIN, Optional.empty(),
        "test"), Progress.NONE);
    assertEquals("cp7", newest.checkpoint());
    assertFalse(newest.consolidated());
    assertArrayEquals(cp7, Files.readAllBytes(archive(repo, 7)));
  }

  @Test
  void aHeldLockIsRefusedAndALeftoverOfAKilledRunIsRemoved() throws Exception {
    Repository repo = copyRepository(dir.resolve("repo"));
    byte[] cp4 = Files.readAllBytes(archive(repo, 4));
    try (HeldLock held = HeldLock.hold(repo, QemuChain.DOMAIN, "backup of cp8")) {
      RepositoryLockedException e = assertThrows(RepositoryLockedException.class, () -> new Consolidator(repo).run(
          ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp4"), "test"), Progress.NONE));
      assertTrue(e.getMessage().contains("backup of cp8"), e.getMessage());
    }
    assertArrayEquals(cp4, Files.readAllBytes(archive(repo, 4)), "refused: nothing changed");
    Path leftover = Files.write(repo.domainDir(QemuChain.DOMAIN).resolve(".cp4.tar.tmp-5eed"), new byte[4096]);
    ConsolidateResult r = new Consolidator(repo).run(ConsolidateRequest.of(QemuChain.DOMAIN, Optional.of("cp4"), "test"),
        Progress.NONE);
    assertEquals(List.of(leftover), r.leftoversRemoved());
    assertRepositorySound(repo, "after a leftover");
    List<Path> restored = new ArrayList<>();
    for (int p = 4; p <= QemuChain.POINTS; p++) {
      assertRestoresIdentical(repo, p, dir.resolve("restore-" + p), "cp4 consolidated");
      restored.add(dir.resolve("restore-" + p));
    }
    assertEquals(4, restored.size());
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
