package org.tidemark.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.tidemark.archive.Chains;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.ParentRef;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;

/** Hand-worked plans: per-disk reasons after a fallback, calendar buckets, damage, refused policies. */
class PrunePlannerTest {
  private final List<StoredBackup> backups = new ArrayList<>();

  /** A backup at {@code time} (UTC, ISO), incremental on the previous one for the disks not named full. */
  private void point(String time, String... full) {
    List<String> f = List.of(full);
    List<DiskManifest> disks = new ArrayList<>();
    for (String d : List.of("vda", "vdb")) {
      boolean isFull = backups.isEmpty() || f.contains(d);
      disks.add(new DiskManifest(d, isFull ? DiskManifest.FULL : DiskManifest.INCREMENTAL,
          isFull ? DiskDecision.NO_BASE_BACKUP : DiskDecision.INCREMENTAL, "", 4096, 512,
          List.of(new ExtentRecord(0, isFull ? 4096 : 512, true))));
    }
    String cp = "cp" + backups.size();
    StoredBackup parent = backups.isEmpty() ? null : backups.get(backups.size() - 1);
    boolean allFull = disks.stream().allMatch(DiskManifest::isFull);
    Manifest m = Manifest.of("test", "vm", cp, Instant.parse(time).getEpochSecond(),
        Optional.ofNullable(allFull ? null : new ParentRef(parent.checkpoint(), parent.id())), disks);
    backups.add(new StoredBackup(History.DIR.resolve(cp + ".tar"), m, 1));
  }

  private PrunePlan plan(RetentionPolicy policy, List<Finding> unreadable) {
    return PrunePlanner.plan("vm", Chains.of(History.DIR, "vm", new Repository.Scan(backups, unreadable)), policy);
  }

  private static RetentionPolicy keep(RetentionRule rule, int n) {
    return RetentionPolicy.builder().zone(ZoneId.of("UTC")).keep(rule, n).build();
  }

  private static List<String> reasons(PrunePlan plan) {
    return plan.entries().stream().map(e -> e.backup().checkpoint() + " " + e.action() + ": " + e.reason()).toList();
  }

  @Test
  void aPointKeptAsALinkKeepsItsOwnChainToo() {
    point("2026-03-01T01:00:00Z");
    point("2026-03-02T01:00:00Z");
    point("2026-03-03T01:00:00Z", "vdb"); // vdb fell back to a full copy
    point("2026-03-04T01:00:00Z");
    point("2026-03-05T01:00:00Z", "vda"); // then vda did
    PrunePlan plan = plan(keep(RetentionRule.LAST, 1), List.of());
    assertEquals(List.of(
        "cp0 KEEP: needed by kept point cp1 for disks vda, vdb",
        "cp1 KEEP: needed by kept point cp2 for disk vda",
        "cp2 KEEP: needed by kept point cp3 for disks vda, vdb",
        "cp3 KEEP: needed by kept point cp4 for disk vdb",
        "cp4 KEEP: keep-last newest #1"), reasons(plan));
    // cp4's restore needs cp3 and cp2 for vdb only; cp3, a point that stays, needs cp2 down to cp0 for vda
    assertEquals(List.of(new PrunePlan.Need("cp3", List.of("vda", "vdb"))), plan.entries().get(2).neededBy());
    assertEquals(List.of(), plan.removals());
  }

  @Test
  void theReasonNamesTheDisksAKeptPointNeedsAnArchiveFor() {
    point("2026-03-01T01:00:00Z");
    point("2026-03-02T01:00:00Z");
    point("2026-03-03T01:00:00Z", "vda", "vdb"); // a full backup
    point("2026-03-04T01:00:00Z", "vdb"); // vdb fell back to a full copy
    point("2026-03-05T01:00:00Z");
    PrunePlan plan = plan(keep(RetentionRule.LAST, 1), List.of());
    assertEquals(List.of(
        "cp0 REMOVE: no rule keeps it and no kept point needs it",
        "cp1 REMOVE: no rule keeps it and no kept point needs it",
        "cp2 KEEP: needed by kept point cp3 for disk vda",
        "cp3 KEEP: needed by kept point cp4 for disks vda, vdb",
        "cp4 KEEP: keep-last newest #1"), reasons(plan));
    assertEquals(List.of("cp1.tar", "cp0.tar"), plan.removals().stream().map(StoredBackup::id).toList());
  }

  @Test
  void keepingTheFallbackPointAloneLeavesNothingOlder() {
    point("2026-03-01T01:00:00Z");
    point("2026-03-02T01:00:00Z");
    point("2026-03-03T01:00:00Z", "vda", "vdb");
    point("2026-03-04T01:00:00Z");
    PrunePlan plan = plan(keep(RetentionRule.LAST, 1), List.of());
    assertEquals(List.of("cp1.tar", "cp0.tar"), plan.removals().stream().map(StoredBackup::id).toList());
  }

  @Test
  void calendarBucketsFollowTheZoneAndIsoWeeks() {
    point("2026-12-28T10:00:00Z"); // Monday of ISO week 2026-W53
    point("2027-01-03T22:00:00Z"); // Sunday of 2026-W53 in UTC; Monday 2027-01-04 (2027-W01) in Auckland
    point("2027-01-04T08:00:00Z"); // 2027-W01
    PrunePlan utc = plan(keep(RetentionRule.WEEKLY, 2), List.of());
    assertEquals(List.of("cp0 KEEP: needed by kept point cp1 for disks vda, vdb",
        "cp1 KEEP: keep-weekly 2026-W53", "cp2 KEEP: keep-weekly 2027-W01"), reasons(utc));
    PrunePlan auckland = plan(RetentionPolicy.builder().zone(ZoneId.of("Pacific/Auckland"))
        .keep(RetentionRule.WEEKLY, 2).keep(RetentionRule.YEARLY, 1).build(), List.of());
    assertEquals(List.of("cp0 KEEP: keep-weekly 2026-W53", "cp1 KEEP: needed by kept point cp2 for disks vda, vdb",
        "cp2 KEEP: keep-weekly 2027-W01, keep-yearly 2027"), reasons(auckland));
  }

  @Test
  void unreadableArchivesAndBrokenChainsAreKeptAndMakeTheDomainDamaged() {
    point("2026-03-01T01:00:00Z");
    point("2026-03-02T01:00:00Z");
    point("2026-03-03T01:00:00Z");
    point("2026-03-04T01:00:00Z", "vda", "vdb");
    point("2026-03-05T01:00:00Z");
    backups.remove(1); // cp1 gone: cp2 cannot be restored
    Finding truncated = new Finding(History.DIR.resolve("cp9.tar"), Optional.empty(), OptionalLong.empty(), "truncated");
    PrunePlan plan = plan(keep(RetentionRule.LAST, 1), List.of(truncated));
    assertTrue(plan.damaged());
    assertEquals(List.of(truncated), plan.unreadable());
    assertEquals(List.of(
        "cp0 REMOVE: no rule keeps it and no kept point needs it",
        "cp2 KEEP: damaged, never removed by a policy: parent backup 'cp1.tar' (checkpoint 'cp1') is missing or"
            + " unreadable; unreadable archives: cp9.tar: truncated",
        "cp3 KEEP: needed by kept point cp4 for disks vda, vdb",
        "cp4 KEEP: keep-last newest #1"), reasons(plan));
    assertEquals(PrunePlan.Action.REMOVE, plan.entries().get(0).action(), "cp0 is not reached by the damaged cp2");
  }

  /**
   * A refused policy is a typed error carrying the rule, the value and the range, in the library's
   * words (the rule's name, no command-line flag): the CLI words it with its own flags.
   */
  @Test
  void aPolicyWithoutAKeepRuleIsRefused() {
    RetentionPolicyException e = assertThrows(RetentionPolicyException.class,
        () -> RetentionPolicy.builder().keep(RetentionRule.DAILY, 0).build());
    assertEquals(Optional.empty(), e.rule());
    assertEquals(1, e.minimum(), "a policy's highest count is at least 1");
    assertTrue(e.getMessage().contains("would remove every backup"), e.getMessage());
    for (RetentionRule rule : RetentionRule.values()) {
      e = assertThrows(RetentionPolicyException.class, () -> RetentionPolicy.builder().keep(rule, -7));
      assertEquals(Optional.of(rule), e.rule());
      assertEquals(-7, e.value());
      assertEquals(0, e.minimum());
      assertEquals(Integer.MAX_VALUE, e.maximum());
      assertEquals(rule.option() + ": -7 (expected a count of 0 or more)", e.getMessage());
      assertTrue(!e.getMessage().contains("--"), "no command-line wording: " + e.getMessage());
    }
  }
}
