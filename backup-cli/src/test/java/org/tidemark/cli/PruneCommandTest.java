package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.StoredBackup;
import org.tidemark.retention.PruneFixtures;
import org.tidemark.retention.PrunePlan;
import org.tidemark.retention.RetentionPolicy;
import org.tidemark.retention.RetentionRule;

/**
 * {@code tidemark prune} on repositories of seeded histories (points days apart, per-disk
 * fallbacks, added and removed disks, branches): it removes exactly what the library's plan removes,
 * the rest verifies and lists clean, a dry run changes nothing, a second run removes nothing, and each
 * failure path (no keep rule, a locked domain, a damaged domain, an unknown domain) has its exit code
 * and its one-line JSON document.
 */
class PruneCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] POLICY = {"--keep-last", "2", "--keep-daily", "4", "--keep-weekly", "3",
      "--keep-monthly", "2", "--time-zone", "UTC"};

  @TempDir Path dir;

  private static String[] args(String... parts) {
    List<String> a = new ArrayList<>(List.of(parts));
    return a.toArray(String[]::new);
  }

  private static String[] with(String[] base, String... more) {
    return Stream.concat(Stream.of(base), Stream.of(more)).toArray(String[]::new);
  }

  private static JsonNode oneLine(Cli.Result r) throws Exception {
    assertEquals(1, r.out().lines().count(), "one line: " + r);
    JsonNode doc = JSON.readTree(r.out());
    assertEquals("prune", doc.get("command").asText(), r.toString());
    assertEquals(r.code(), doc.get("exitCode").asInt(), r.toString());
    assertFalse(Instant.parse(doc.get("finishedAt").asText()).isBefore(Instant.parse(doc.get("startedAt").asText())));
    return doc;
  }

  /** Every file of the domain folder with its size and modification time, but the lock file (a run creates it). */
  private static Map<String, String> state(Path folder) throws Exception {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.list(folder)) {
      for (Path p : s.filter(p -> !p.getFileName().toString().equals(RepositoryLock.FILE_NAME)).toList()) {
        m.put(p.getFileName().toString(), Files.size(p) + "@" + Files.getLastModifiedTime(p).toMillis());
      }
    }
    return m;
  }

  private static List<String> archives(Path folder) throws Exception {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tar") && !n.startsWith(".")).sorted().toList();
    }
  }

  private static RetentionPolicy policy() {
    return RetentionPolicy.builder().zone(java.time.ZoneId.of("UTC")).keep(RetentionRule.LAST, 2)
        .keep(RetentionRule.DAILY, 4).keep(RetentionRule.WEEKLY, 3).keep(RetentionRule.MONTHLY, 2).build();
  }

  @Test
  void pruneRemovesWhatThePlanRemovesAndWhatStaysVerifies() throws Exception {
    Path repo = dir.resolve("repo");
    int removedInAll = 0;
    for (int seed = 1; seed <= 4; seed++) {
      String domain = "vm" + seed;
      PruneFixtures.history(repo, domain, seed, 30);
      PrunePlan plan = PruneFixtures.plan(repo, domain, policy());
      List<String> kept = plan.kept().stream().map(StoredBackup::id).sorted().toList();

      Cli.Result dry = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", domain, "--dry-run"), POLICY));
      assertEquals(0, dry.code(), dry.toString());
      assertEquals(plan.entries().size() + 2, dry.out().lines().count(), "a line per archive, a heading, a summary: " + dry);
      assertTrue(dry.out().contains("would keep " + kept.size() + ", remove " + plan.removals().size()), dry.toString());

      Map<String, String> before = state(repo.resolve(domain));
      Cli.Result r = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", domain), POLICY));
      assertEquals(0, r.code(), r.toString());
      assertEquals(kept, archives(repo.resolve(domain)), "seed " + seed + ": " + r);
      for (StoredBackup b : plan.removals()) {
        assertTrue(r.out().contains("  removed " + b.checkpoint() + " (" + b.id() + ")"), r.toString());
      }
      for (String k : kept) {
        assertEquals(before.get(k), state(repo.resolve(domain)).get(k), "a kept archive is untouched");
      }
      removedInAll += plan.removals().size();
      Cli.Result verify = Cli.run("verify", "--repo", repo.toString(), "--domain", domain);
      assertEquals(0, verify.code(), verify.toString());
      Cli.Result list = Cli.run("list", "--repo", repo.toString(), "--domain", domain);
      assertEquals(0, list.code(), "no broken chain: " + list);

      Cli.Result again = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", domain, "--json"), POLICY));
      JsonNode doc = oneLine(again);
      assertEquals("ok", doc.get("status").asText());
      assertEquals(0, doc.get("domains").get(0).get("removed").asInt(), "a second run removes nothing: " + again);
    }
    assertTrue(removedInAll >= 4 * 5, removedInAll + " archives removed over the four histories");
  }

  @Test
  void aPruneOpensEachArchiveOnce() throws Exception {
    Path repo = dir.resolve("repo");
    org.tidemark.archive.RepositoryFixtures.chain(repo, "vm", 300);
    long before = org.tidemark.archive.RepositoryFixtures.opens();
    Cli.Result r = Cli.run("prune", "--repo", repo.toString(), "--domain", "vm", "--keep-last", "1", "-q");
    assertEquals(0, r.code(), r.toString());
    assertEquals(300, org.tidemark.archive.RepositoryFixtures.opens() - before, "archives the repository opened");
    assertEquals(300, archives(repo.resolve("vm")).size(), "one chain: the newest point needs every archive");
  }

  @Test
  void dryRunRemovesNothingAndItsJsonSaysWhatWouldGo() throws Exception {
    Path repo = dir.resolve("repo");
    PruneFixtures.history(repo, "vm", 3, 40);
    PruneFixtures.history(repo, "other", 4, 20);
    Map<String, String> vm = state(repo.resolve("vm"));
    Map<String, String> other = state(repo.resolve("other"));
    Cli.Result r = Cli.run(with(args("prune", "--repo", repo.toString(), "--all", "--dry-run", "--json"), POLICY));
    JsonNode doc = oneLine(r);
    assertEquals(0, r.code(), r.toString());
    assertTrue(doc.get("dryRun").asBoolean());
    assertEquals(2, doc.get("policy").get("keep-last").asInt());
    assertEquals("UTC", doc.get("policy").get("timeZone").asText());
    assertEquals(2, doc.get("domains").size());
    int wouldRemove = 0;
    for (JsonNode d : doc.get("domains")) {
      assertEquals("dry-run", d.get("status").asText());
      for (JsonNode a : d.get("archives")) {
        assertFalse(a.get("removed").asBoolean());
        assertFalse(a.get("reason").asText().isEmpty());
        wouldRemove += a.get("action").asText().equals("remove") ? 1 : 0;
        if (a.get("action").asText().equals("keep") && a.get("rules").isEmpty()) {
          assertTrue(a.get("neededBy").size() > 0, "kept for a kept point: " + a);
        }
      }
    }
    assertTrue(wouldRemove > 10, wouldRemove + " archives would go");
    assertEquals(vm, state(repo.resolve("vm")), "nothing changed");
    assertEquals(other, state(repo.resolve("other")), "nothing changed");
  }

  @Test
  void aPolicyWithoutAKeepRuleIsAUsageErrorAndRemovesNothing() throws Exception {
    Path repo = dir.resolve("repo");
    PruneFixtures.history(repo, "vm", 5, 10);
    Map<String, String> before = state(repo.resolve("vm"));
    for (String[] a : List.of(args("prune", "--repo", repo.toString(), "--domain", "vm"),
        args("prune", "--repo", repo.toString(), "--domain", "vm", "--keep-daily", "0"),
        args("prune", "--repo", repo.toString(), "--all", "--keep-last", "0", "--json"))) {
      Cli.Result r = Cli.run(a);
      assertEquals(ExitCodes.USAGE, r.code(), r.toString());
      assertTrue(r.err().contains("needs at least one keep rule with a count above 0 (--keep-last, --keep-hourly,"),
          r.toString());
    }
    Cli.Result negative = Cli.run("prune", "--repo", repo.toString(), "--domain", "vm", "--keep-last", "-3");
    assertEquals(ExitCodes.USAGE, negative.code(), negative.toString());
    assertTrue(negative.err().contains("--keep-last: -3 (expected a count of 0 or more)"), negative.toString());
    Cli.Result weekly = Cli.run("prune", "--repo", repo.toString(), "--domain", "vm", "--keep-last", "2",
        "--keep-weekly", "-1");
    assertEquals(ExitCodes.USAGE, weekly.code(), weekly.toString());
    assertTrue(weekly.err().contains("--keep-weekly: -1 (expected a count of 0 or more)"), weekly.toString());
    Cli.Result neither = Cli.run("prune", "--repo", repo.toString(), "--keep-last", "1");
    assertEquals(ExitCodes.USAGE, neither.code(), "never every domain by default: " + neither);
    Cli.Result both = Cli.run("prune", "--repo", repo.toString(), "--keep-last", "1", "--all", "--domain", "vm");
    assertEquals(ExitCodes.USAGE, both.code(), both.toString());
    assertEquals(before, state(repo.resolve("vm")));
  }

  @Test
  void aDomainLockedByAnotherRunExits8AndItsJsonSaysSo() throws Exception {
    Path repo = dir.resolve("repo");
    PruneFixtures.history(repo, "vm", 6, 20);
    Map<String, String> before = state(repo.resolve("vm"));
    CountDownLatch locked = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
      try (RepositoryLock l = Repository.at(repo).lock("vm", "backup of cp99", Duration.ZERO)) {
        locked.countDown();
        release.await();
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    assertTrue(locked.await(30, TimeUnit.SECONDS));
    try {
      Cli.Result r = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm", "--json"), POLICY));
      assertEquals(ExitCodes.LOCKED, r.code(), r.toString());
      JsonNode doc = oneLine(r);
      assertEquals("failed", doc.get("status").asText());
      assertEquals("locked", doc.get("domains").get(0).get("status").asText());
      JsonNode error = doc.get("domains").get(0).get("error");
      assertEquals("RepositoryLockedException", error.get("type").asText());
      assertTrue(error.get("message").asText().contains("backup of cp99"), doc.toString());
      assertEquals(repo.resolve("vm").resolve(RepositoryLock.FILE_NAME).toString(), error.get("file").asText());
      assertTrue(r.err().contains("is locked by another Tidemark run"), r.toString());
      assertEquals(before, state(repo.resolve("vm")), "nothing removed");
      Cli.Result dry = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm", "--dry-run"), POLICY));
      assertEquals(0, dry.code(), "a dry run takes no lock: " + dry);
    } finally {
      release.countDown();
      holder.get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aDamagedDomainIsLeftAsItIsUnlessAllowedAndTheDamagedArchivesAlwaysStay() throws Exception {
    Path repo = dir.resolve("repo");
    List<Path> archives = PruneFixtures.history(repo, "vm", 7, 30);
    Path truncated = archives.get(10);
    try (FileChannel c = FileChannel.open(truncated, StandardOpenOption.WRITE)) {
      c.truncate(c.size() / 2);
    }
    Map<String, String> before = state(repo.resolve("vm"));
    Cli.Result r = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm", "--json"), POLICY));
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, r.code(), r.toString());
    JsonNode doc = oneLine(r);
    assertEquals("failed", doc.get("status").asText());
    JsonNode d = doc.get("domains").get(0);
    assertEquals("refused-damaged", d.get("status").asText());
    JsonNode unreadable = d.get("unreadable").get(0); // an object, as list's and verify's
    assertEquals(truncated.toString(), unreadable.get("archive").asText(), d.toString());
    assertTrue(unreadable.get("fileOffset").asLong() <= Files.size(truncated), d.toString());
    assertTrue(r.err().contains("--allow-damaged"), r.toString());
    assertEquals(before, state(repo.resolve("vm")), "nothing removed");

    Cli.Result allowed = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm", "--allow-damaged"),
        POLICY));
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, allowed.code(), "still damaged: " + allowed);
    assertTrue(Files.exists(truncated), "the unreadable archive stays");
    assertTrue(archives(repo.resolve("vm")).size() < before.size() - 1, "the rest was pruned: " + allowed);
    assertTrue(allowed.out().contains("UNREADABLE " + truncated), allowed.toString());
    for (String n : archives(repo.resolve("vm"))) {
      Path p = repo.resolve("vm").resolve(n);
      if (!p.equals(truncated)) { // every readable point left restores: verify checks its chain and chunks
        String cp = n.substring(0, n.length() - 4);
        Cli.Result v = Cli.run("verify", "--repo", repo.toString(), "--domain", "vm", "--checkpoint", cp);
        assertTrue(v.out().contains("archive(s)"), v.toString());
        assertTrue(v.err().lines().allMatch(l -> l.contains(truncated.getFileName().toString())),
            "only the truncated archive is a problem: " + v);
      }
    }
  }

  @Test
  void aRemovalThatFailsStopsTheDomainLeavesEveryPointRestorableAndTheRerunFinishes() throws Exception {
    Path repo = dir.resolve("repo");
    PruneFixtures.history(repo, "vm", 9, 30);
    PruneFixtures.history(repo, "vm2", 10, 10);
    PrunePlan plan = PruneFixtures.plan(repo, "vm", policy());
    assertTrue(plan.removals().size() >= 3, plan.removals().toString());
    Path stuck = plan.removals().get(2).path(); // the third to go cannot be deleted (immutable: even root may not)
    chattr("+i", stuck);
    Cli.Result r;
    try {
      r = Cli.run(with(args("prune", "--repo", repo.toString(), "--all", "--json"), POLICY));
    } finally {
      chattr("-i", stuck);
    }
    assertEquals(ExitCodes.IO_ERROR, r.code(), r.toString());
    JsonNode doc = oneLine(r);
    assertEquals("failed", doc.get("status").asText());
    JsonNode vm = doc.get("domains").get(0);
    assertEquals("failed", vm.get("status").asText(), vm.toString());
    assertEquals(stuck.toString(), vm.get("error").get("file").asText(), vm.toString());
    assertEquals(List.of(plan.removals().get(0).path().toString(), plan.removals().get(1).path().toString()),
        JSON.convertValue(vm.get("removedBeforeFailure"), List.class));
    assertEquals("pruned", doc.get("domains").get(1).get("status").asText(), "the other domain is still pruned");
    assertTrue(r.err().contains(stuck.toString()), r.toString());
    Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
    assertEquals(0, verify.code(), "every point left is restorable: " + verify);
    Cli.Result again = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm"), POLICY));
    assertEquals(0, again.code(), again.toString());
    assertEquals(plan.kept().stream().map(StoredBackup::id).sorted().toList(), archives(repo.resolve("vm")));
  }

  private static void chattr(String flag, Path file) throws Exception {
    Process p = new ProcessBuilder("chattr", flag, file.toString()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), "chattr " + flag + " " + file + " (needs root on ext4): " + said);
  }

  @Test
  void anUnknownDomainIsAnErrorWithItsJsonDocument() throws Exception {
    Path repo = dir.resolve("repo");
    PruneFixtures.history(repo, "vm", 8, 5);
    Cli.Result r = Cli.run(with(args("prune", "--repo", repo.toString(), "--domain", "vm2", "--json"), POLICY));
    assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
    JsonNode doc = oneLine(r);
    assertEquals("failed", doc.get("status").asText());
    assertTrue(doc.get("error").get("message").asText().contains("no backups of domain 'vm2'"), doc.toString());
    Cli.Result missing = Cli.run(with(args("prune", "--repo", dir.resolve("nowhere").toString(), "--all", "--json"), POLICY));
    assertEquals(ExitCodes.IO_ERROR, missing.code(), missing.toString());
    assertEquals(dir.resolve("nowhere").toString(), oneLine(missing).get("error").get("file").asText());
  }
}
