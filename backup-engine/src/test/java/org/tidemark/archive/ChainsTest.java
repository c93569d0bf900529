package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chains resolved from one scan: the same chains and the same problems, word for word, as walking
 * each chain from its head (the way {@code Repository.chain} did it before, kept below as the
 * reference), on seeded random folders with missing parents, cycles, disks without a full copy and
 * two archives of one checkpoint; and one reading of the folder whatever the number of chains.
 */
class ChainsTest {
  private static final Path DIR = Path.of("/repo/vm1");
  private static final List<String> DISKS = List.of("vda", "vdb", "vdc");

  @TempDir Path root;

  static Stream<Long> seeds() {
    return LongStream.range(0, 300).boxed();
  }

  /** A random folder: up to 14 backups, parents among them, missing, or none; 1 to 3 disks each. */
  private static Repository.Scan randomScan(Random r) {
    int n = 1 + r.nextInt(14);
    List<StoredBackup> backups = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String cp = "cp" + r.nextInt(n + 2); // sometimes two backups of one checkpoint
      ParentRef parent = switch (r.nextInt(5)) {
        case 0 -> null;
        case 1 -> new ParentRef("gone", "gone" + r.nextInt(2) + ".tar"); // missing or unreadable
        default -> {
          int p = r.nextInt(n);
          yield new ParentRef("cp" + p, "b" + p + ".tar"); // may be itself, or close a cycle
        }
      };
      List<DiskManifest> disks = new ArrayList<>();
      for (String d : DISKS) {
        if (r.nextInt(3) != 0) {
          boolean full = r.nextInt(3) == 0;
          disks.add(new DiskManifest(d, full ? DiskManifest.FULL : DiskManifest.INCREMENTAL,
              full ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, "y", 512, 512,
              full ? List.of(new ExtentRecord(0, 512, true)) : List.of()));
        }
      }
      Manifest m = Manifest.of("test", "vm1", cp, i, Optional.ofNullable(parent), disks);
      backups.add(new StoredBackup(DIR.resolve("b" + i + ".tar"), m, 1024));
    }
    List<Finding> unreadable = r.nextBoolean() ? List.of()
        : List.of(new Finding(DIR.resolve("gone0.tar"), ArchiveException.Where.entry("seal.json", 7680),
            "incomplete archive: no seal.json entry at the end"));
    return new Repository.Scan(backups, unreadable);
  }

  @ParameterizedTest
  @MethodSource("seeds")
  void everyChainAndProblemIsWhatWalkingFromItsHeadGives(long seed) {
    Random r = new Random(seed);
    Repository.Scan scan = randomScan(r);
    Chains chains = new Chains(DIR, "vm1", scan);
    List<Optional<String>> asked = new ArrayList<>();
    asked.add(Optional.empty());
    asked.add(Optional.of("never-saved"));
    scan.backups().forEach(b -> asked.add(Optional.of(b.checkpoint())));
    for (Optional<String> cp : asked) {
      String expected = outcome(() -> Reference.chain(DIR, "vm1", scan, cp), null);
      assertEquals(expected, outcome(() -> chains.walk(cp), scan), "chain of " + cp + ", seed " + seed);
      Optional<ArchiveException> problem = chains.problem(cp);
      String p = problem.map(e -> described(e, scan)).orElse(null);
      assertEquals(expected.startsWith("chain ") ? null : expected, p, "problem of " + cp + ", seed " + seed);
    }
  }

  private interface ChainCall {
    List<StoredBackup> call() throws IOException;
  }

  /** The chain's archives, or the exception's type and message ({@link #described}; the reference's as it is: no scan). */
  private static String outcome(ChainCall c, Repository.Scan scan) {
    try {
      return "chain " + c.call().stream().map(StoredBackup::id).toList();
    } catch (IOException e) {
      return described(e, scan);
    }
  }

  /**
   * The exception's type and message; a corruption that gives the folder's unreadable archives
   * ({@link UnreadableArchivesException}) must give exactly the scan's findings, fields and all,
   * and reads as the corruption the reference throws.
   */
  private static String described(IOException e, Repository.Scan scan) {
    if (scan == null) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    if (e instanceof UnreadableArchivesException u) {
      assertEquals(scan.unreadable(), u.unreadable(), "the findings, not their text");
      assertTrue(!scan.unreadable().isEmpty());
      return "ArchiveCorruptException: " + e.getMessage();
    }
    if (e instanceof ArchiveCorruptException && !(e instanceof NewestUnreadableException)) {
      assertTrue(scan.unreadable().isEmpty() || !e.getMessage().contains("; unreadable archives: "),
          "unreadable archives as text only: " + e.getMessage());
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  /** A link's findings name the child's manifest entry (a scan does not keep where its data is). */
  @Test
  void aBrokenLinkIsPlacedAtTheChildsManifest() {
    DiskManifest full = new DiskManifest("vda", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, "x", 1024, 512,
        List.of(new ExtentRecord(0, 1024, false)));
    DiskManifest incremental = new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "x", 2048,
        512, List.of());
    StoredBackup parent = new StoredBackup(DIR.resolve("b0.tar"), Manifest.of("test", "vm1", "cp0", 1,
        Optional.empty(), List.of(full)), 1024);
    StoredBackup child = new StoredBackup(DIR.resolve("b1.tar"), Manifest.of("test", "vm1", "cp1", 2,
        Optional.of(new ParentRef("cp9", "b0.tar")), List.of(incremental)), 1024);
    List<Finding> findings = ArchiveConsistency.checkChain(List.of(child, parent));
    assertEquals(2, findings.size(), findings.toString()); // the checkpoint named, the disk's size
    for (Finding f : findings) {
      assertEquals(child.path(), f.archive());
      assertEquals(Optional.of("manifest.json"), f.entry(), f.toString());
      assertTrue(f.fileOffset().isEmpty(), f.toString());
    }
    assertEquals(Optional.of("vda"), findings.get(1).disk());
    assertEquals(java.util.OptionalLong.of(1024), findings.get(1).offset());
  }

  @Test
  void aFolderIsReadOnceForAllItsChains() throws Exception {
    int n = 200;
    List<Path> written = RepositoryFixtures.chain(root, "vm1", n);
    long before = RepositoryFixtures.opens();
    Chains chains = Repository.at(root).chains("vm1");
    for (StoredBackup b : chains.scan().backups()) {
      assertEquals(Optional.empty(), chains.problem(Optional.of(b.checkpoint())).map(Exception::getMessage));
    }
    List<StoredBackup> newest = chains.chain(Optional.empty());
    assertEquals(n, RepositoryFixtures.opens() - before, "archives opened");
    assertEquals(n, newest.size());
    assertEquals(written.get(n - 1), newest.get(0).path());
    assertEquals(written.get(0), newest.get(n - 1).path());
  }

  @Test
  void aLongChainWithinOneSecondIsListedParentFirst() throws Exception {
    // created in the same second: the order comes from the parent links alone (not the names)
    Path dir = Files.createDirectories(root.resolve("vm1"));
    int n = 60;
    List<String> names = IntStream.range(0, n).mapToObj(i -> "z" + (n - i) + "-" + i).toList(); // names sort backwards
    for (int i = 0; i < n; i++) {
      DiskManifest d = new DiskManifest("vda", i == 0 ? DiskManifest.FULL : DiskManifest.INCREMENTAL,
          i == 0 ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, "y", 512, 512, i == 0 ? List.of(new ExtentRecord(0, 512, true)) : List.of());
      Manifest m = Manifest.of("test", "vm1", "cp" + i, 1_700_000_000L,
          Optional.ofNullable(i == 0 ? null : new ParentRef("cp" + (i - 1), names.get(i - 1) + ".tar")), List.of(d));
      try (ArchiveWriter w = ArchiveWriter.create(dir.resolve(names.get(i) + ".tar"),
          RepositoryFixtures.checkpoint("vm1", "cp" + i), m)) {
        w.commit();
      }
    }
    List<String> order = Repository.at(root).scan("vm1").backups().stream().map(StoredBackup::checkpoint).toList();
    assertEquals(IntStream.range(0, n).mapToObj(i -> "cp" + i).toList(), order);
    assertEquals("cp" + (n - 1), Repository.at(root).chain("vm1", Optional.empty()).get(0).checkpoint());
  }

  @Test
  void noBackupsIsAPlainError() throws Exception {
    Files.createDirectories(root.resolve("vm1"));
    ArchiveException e = assertThrows(ArchiveException.class, () -> Repository.at(root).chain("vm1", Optional.empty()));
    assertEquals(UnknownPointException.class, e.getClass(), "a request naming nothing there, not damage");
    assertTrue(e.getMessage().contains("no backups of domain 'vm1'"), e.getMessage());
  }

  /** {@code Repository.chain} as it was before chains were resolved from one scan: the walk from the head. */
  private static final class Reference {
    static List<StoredBackup> chain(Path dir, String domain, Repository.Scan scan, Optional<String> checkpoint)
        throws IOException {
      Map<String, StoredBackup> byId = new HashMap<>();
      scan.backups().forEach(b -> byId.put(b.id(), b));
      StoredBackup head;
      if (checkpoint.isPresent()) {
        Optional<StoredBackup> found =
            scan.backups().stream().filter(b -> b.checkpoint().equals(checkpoint.get())).findFirst();
        if (found.isEmpty()) {
          throw missing(dir, scan, "no backup of checkpoint '" + checkpoint.get() + "' (backups: "
              + scan.backups().stream().map(StoredBackup::checkpoint).toList() + ")");
        }
        head = found.get();
      } else {
        if (scan.backups().isEmpty()) {
          throw missing(dir, scan, "no backups of domain '" + domain + "'");
        }
        head = scan.backups().get(scan.backups().size() - 1);
      }
      List<StoredBackup> chain = new ArrayList<>();
      Set<String> needFull = new HashSet<>();
      head.manifest().disks().forEach(d -> needFull.add(d.name()));
      StoredBackup b = head;
      while (true) {
        chain.add(b);
        b.manifest().disks().stream().filter(DiskManifest::isFull).forEach(d -> needFull.remove(d.name()));
        if (needFull.isEmpty()) {
          return chain;
        }
        Optional<ParentRef> parent = b.manifest().parent();
        if (parent.isEmpty()) {
          throw new ArchiveCorruptException(b.path(), "disks " + needFull + " have no full backup in the chain");
        }
        StoredBackup next = byId.get(parent.get().archive());
        if (next == null || chain.contains(next)) {
          throw new ArchiveCorruptException(b.path(), "parent backup '" + parent.get().archive() + "' (checkpoint '"
              + parent.get().checkpoint() + "') is " + (next == null ? "missing or unreadable" : "a cycle")
              + unreadable(scan));
        }
        b = next;
      }
    }

    private static ArchiveException missing(Path dir, Repository.Scan scan, String message) {
      if (scan.unreadable().isEmpty()) {
        return new UnknownPointException(dir, message);
      }
      return new ArchiveCorruptException(dir, message + unreadable(scan));
    }

    private static String unreadable(Repository.Scan scan) {
      if (scan.unreadable().isEmpty()) {
        return "";
      }
      StringBuilder b = new StringBuilder("; unreadable archives: ");
      for (int i = 0; i < scan.unreadable().size(); i++) {
        Finding f = scan.unreadable().get(i);
        b.append(i == 0 ? "" : "; ").append(f.archive().getFileName()).append(": ").append(f.problem());
      }
      return b.toString();
    }
  }
}
