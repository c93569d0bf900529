package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.archive.ArchiveCorruptException;
import org.tidemark.archive.NewestUnreadableException;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ChunkRecord;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;
import org.tidemark.archive.Tampering;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;

/**
 * A restore must never lie: whatever verify rejects, a restore refuses before writing anything
 * (resealed metadata edits, a chain whose links disagree, a chunk of a later disk that fails its
 * checksum), and without a checkpoint it restores the newest point or fails, never an older one.
 */
class RestoreRefusesWhatVerifyRejectsTest {
  @TempDir Path dir;
  Repository repo;
  Map<String, byte[]> newest;

  @BeforeEach
  void writeChain() throws IOException {
    repo = Repository.at(dir.resolve("repo"));
    newest = Tampering.writeChain(repo);
  }

  static List<Tampering.Case> cases() {
    return Tampering.cases();
  }

  private RestoreResult restore(Optional<String> checkpoint, Path out) throws IOException {
    return new RestoreRunner(repo).run(RestoreRequest.builder("vm1").checkpoint(checkpoint).build(), RestoreTarget.folder(out, false), Progress.NONE);
  }

  /** What {@code tidemark verify --repo} checks: every archive readable, every chain, every archive in full. */
  private List<Finding> verifyAll() throws IOException {
    Repository.Scan scan = repo.scan("vm1");
    List<Finding> findings = new ArrayList<>(scan.unreadable());
    for (StoredBackup b : scan.backups()) {
      try {
        repo.chain("vm1", Optional.of(b.checkpoint()));
      } catch (ArchiveException e) {
        findings.add(Finding.of(e));
      }
      findings.addAll(ArchiveVerifier.verify(b.path()));
    }
    return findings;
  }

  private static List<Path> everything(Path p) throws IOException {
    if (!Files.exists(p)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(q -> !q.equals(p)).toList();
    }
  }

  @Test
  void theUntamperedChainVerifiesAndRestoresEveryByte() throws IOException {
    assertEquals(List.of(), verifyAll());
    Path out = dir.resolve("out");
    RestoreResult r = restore(Optional.empty(), out);
    assertEquals("cp2", r.checkpoint());
    assertArrayEquals(newest.get("vda"), Files.readAllBytes(out.resolve("vda.raw")));
    assertArrayEquals(newest.get("vdb"), Files.readAllBytes(out.resolve("vdb.raw")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void aResealedTamperingIsReportedByVerifyAndRefusedByRestoreBeforeWriting(Tampering.Case c) throws IOException {
    Tampering.rewriteManifest(repo.domainDir("vm1").resolve(c.archive()), c.edit());
    // the seal matches: the archive opens
    ArchiveReader.open(repo.domainDir("vm1").resolve(c.archive())).close();
    List<Finding> findings = verifyAll();
    assertTrue(findings.stream().anyMatch(f -> f.toString().contains(c.finding())), c + ": " + findings);
    Path out = dir.resolve("out");
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> restore(Optional.empty(), out));
    ArchiveInconsistentException typed = assertInstanceOf(ArchiveInconsistentException.class, e);
    // the archive at fault is named (a size that disagrees along the chain names both ends)
    assertTrue(e.getMessage().contains(c.archive()), e.getMessage());
    for (Finding f : typed.findings()) {
      assertTrue(findings.stream().anyMatch(v -> v.toString().contains(f.problem())), f + " is not among verify's " + findings);
    }
    assertEquals(List.of(), everything(out), "the refused restore wrote");
  }

  @Test
  void aCorruptChunkOfTheSecondDiskLeavesNoImageOfTheFirst() throws IOException {
    Path cp1 = repo.domainDir("vm1").resolve("cp1.tar");
    ChunkRecord last;
    try (ArchiveReader r = ArchiveReader.open(cp1)) {
      List<ChunkRecord> vdb = r.chunks("vdb");
      last = vdb.get(vdb.size() - 1);
    }
    try (RandomAccessFile f = new RandomAccessFile(cp1.toFile(), "rw")) {
      f.seek(last.dataOffset() + last.storedLength() / 2);
      int b = f.read();
      f.seek(last.dataOffset() + last.storedLength() / 2);
      f.write(b ^ 0x10);
    }
    Path out = dir.resolve("out");
    ArchiveCorruptException e = assertThrows(ArchiveCorruptException.class, () -> restore(Optional.empty(), out));
    assertTrue(e.getMessage().contains("disk 'vdb' at guest offset " + last.offset()), e.getMessage());
    assertEquals(List.of(), everything(out), "vda was restored first; nothing of it may stay");
  }

  @Test
  void aDamagedNewestArchiveFailsTheRestoreInsteadOfRestoringAnOlderPoint() throws IOException {
    Path cp2 = repo.domainDir("vm1").resolve("cp2.tar");
    try (RandomAccessFile f = new RandomAccessFile(cp2.toFile(), "rw")) {
      f.setLength(f.length() - 512);
    }
    Path out = dir.resolve("out");
    NewestUnreadableException e = assertThrows(NewestUnreadableException.class, () -> restore(Optional.empty(), out));
    assertEquals(cp2, e.archive());
    assertEquals(List.of("cp1"), e.restorable());
    assertTrue(e.getMessage().contains("newest backup") && e.getMessage().contains("1 older point(s)"), e.getMessage());
    assertFalse(e.getMessage().contains("--"), "no command-line wording in the library: " + e.getMessage());
    assertEquals(List.of(), everything(out));
    // asked for explicitly, the older point restores
    RestoreResult r = restore(Optional.of("cp1"), out);
    assertEquals("cp1", r.checkpoint());
    assertArrayEquals(Tampering.pointOne(newest.get("vda")), Files.readAllBytes(out.resolve("vda.raw")));
  }

  @Test
  void anUnreadableArchiveOlderThanTheNewestBackupDoesNotStopTheRestore() throws IOException {
    Path older = Files.write(repo.domainDir("vm1").resolve("cp0.tar"), new byte[1024]);
    // modified before cp2 was created (1700000100): older than the newest point
    Files.setLastModifiedTime(older, FileTime.fromMillis(1700000099_000L));
    assertEquals("cp2", restore(Optional.empty(), dir.resolve("out")).checkpoint());
    // modified in the second cp2 was created: it may be newer, and the restore says so
    Files.setLastModifiedTime(older, FileTime.fromMillis(1700000100_000L));
    NewestUnreadableException e = assertThrows(NewestUnreadableException.class,
        () -> restore(Optional.empty(), dir.resolve("out2")));
    assertEquals(older, e.archive());
    assertEquals(List.of("cp2", "cp1"), e.restorable());
    assertFalse(Files.exists(dir.resolve("out2")));
  }
}
