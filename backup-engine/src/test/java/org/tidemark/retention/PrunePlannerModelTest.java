package org.tidemark.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.time.temporal.WeekFields;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tidemark.archive.Chains;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;

/**
 * The planner against a model of its own over seeded histories ({@link History}: per-disk fallbacks
 * at different points, an added and a removed disk, full backups, branches), seeded policies and
 * time zones, and now and then archives gone missing or unreadable. The model follows each disk's
 * chain on its own (parent by parent to that disk's full copy) and applies each rule by grouping
 * points by calendar bucket; it shares no code with the planner.
 */
class PrunePlannerModelTest {
  private static final List<ZoneId> ZONES = List.of(ZoneId.of("UTC"), ZoneId.of("America/New_York"),
      ZoneId.of("Asia/Kolkata"), ZoneId.of("Pacific/Chatham"));

  static Stream<Integer> seeds() {
    return IntStream.rangeClosed(1, 400).boxed();
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void planMatchesTheModel(int seed) {
    Random r = new Random(seed * 7919L);
    History h = new History(seed, 1 + r.nextInt(45));
    Map<String, StoredBackup> all = h.byId();
    // damage now and then: archives missing (deleted by hand), some of them reported unreadable
    List<StoredBackup> present = new ArrayList<>(h.backups);
    List<Finding> unreadable = new ArrayList<>();
    if (r.nextInt(4) == 0) {
      for (int k = 1 + r.nextInt(3); k > 0 && present.size() > 1; k--) {
        StoredBackup gone = present.remove(r.nextInt(present.size()));
        if (r.nextBoolean()) {
          unreadable.add(new Finding(gone.path(), java.util.Optional.empty(), java.util.OptionalLong.empty(),
              "truncated"));
        }
      }
    }
    RetentionPolicy.Builder pb = RetentionPolicy.builder().zone(ZONES.get(r.nextInt(ZONES.size())));
    boolean any = false;
    for (RetentionRule rule : RetentionRule.values()) {
      int n = r.nextInt(3) == 0 ? 0 : r.nextInt(6);
      pb.keep(rule, n);
      any |= n > 0;
    }
    if (!any) {
      pb.keep(RetentionRule.values()[r.nextInt(RetentionRule.values().length)], 1 + r.nextInt(4));
    }
    RetentionPolicy policy = pb.build();
    String at = "seed " + seed + ", " + present.size() + " of " + all.size() + " archives, " + policy;

    PrunePlan plan = PrunePlanner.plan("vm", Chains.of(History.DIR, "vm", new Repository.Scan(present, unreadable)),
        policy);

    Map<String, StoredBackup> byId = new LinkedHashMap<>();
    present.forEach(b -> byId.put(b.id(), b));
    Set<String> restorable = new HashSet<>();
    for (StoredBackup b : present) {
      if (chainOf(b, byId) != null) {
        restorable.add(b.id());
      }
    }
    Map<String, Set<String>> picks = picks(present, restorable, policy);
    // kept: to a fixpoint, every archive of the per-disk chains of every kept point (each archive kept
    // is a point still there)
    Set<String> kept = new TreeSet<>(picks.keySet());
    boolean grew = true;
    while (grew) {
      grew = false;
      for (String p : List.copyOf(kept)) {
        Map<String, List<String>> chain = restorable.contains(p) ? chainOf(byId.get(p), byId) : Map.of();
        for (List<String> d : chain.values()) {
          grew |= kept.addAll(d);
        }
      }
    }
    Set<String> reachedFromDamaged = new HashSet<>();
    for (StoredBackup b : present) {
      if (!restorable.contains(b.id())) { // damaged: kept, with every archive its parent links reach
        Set<String> seen = new HashSet<>();
        for (StoredBackup cur = b; cur != null && seen.add(cur.id());
            cur = cur.manifest().parent().map(x -> byId.get(x.archive())).orElse(null)) {
          reachedFromDamaged.add(cur.id());
        }
      }
    }
    kept.addAll(reachedFromDamaged);

    // why: every kept archive that names a present archive as parent needs it for its incremental disks
    Map<String, Map<String, Set<String>>> needs = new HashMap<>(); // archive -> point -> disks
    for (String c : kept) {
      StoredBackup child = byId.get(c);
      String p = child.manifest().parent().map(x -> x.archive()).orElse(null);
      if (p != null && !p.equals(c) && byId.containsKey(p)) {
        Set<String> disks = new TreeSet<>();
        child.manifest().disks().stream().filter(d -> !d.isFull()).forEach(d -> disks.add(d.name()));
        needs.computeIfAbsent(p, k -> new HashMap<>()).put(child.checkpoint(), disks);
      }
    }

    Set<String> planKept = new TreeSet<>();
    plan.kept().forEach(b -> planKept.add(b.id()));
    assertEquals(kept, planKept, at);
    for (PrunePlan.Entry e : plan.entries()) {
      String id = e.backup().id();
      Set<String> rules = new TreeSet<>();
      e.rules().forEach(x -> rules.add(x.substring(0, x.indexOf(' '))));
      assertEquals(picks.getOrDefault(id, Set.of()), rules, at + ": rules keeping " + id);
      assertEquals(!restorable.contains(id), e.damage().isPresent(), at + ": " + id + " damaged " + e.damage());
      Map<String, Set<String>> n = needs.getOrDefault(id, Map.of());
      assertEquals(n.size(), e.neededByCount(), at + ": points needing " + id);
      for (PrunePlan.Need need : e.neededBy()) {
        assertEquals(n.get(need.checkpoint()), new TreeSet<>(need.disks()), at + ": " + need + " of " + id);
      }
      assertEquals(e.kept(), !e.rules().isEmpty() || !e.neededBy().isEmpty() || reachedFromDamaged.contains(id), at);
      assertFalse(e.reason().isEmpty());
    }
    assertEquals(!unreadable.isEmpty() || restorable.size() < present.size(), plan.damaged(), at);

    // removing in the plan's order, each point still there stays restorable at every step
    Map<String, StoredBackup> left = new LinkedHashMap<>(byId);
    Set<String> removed = new HashSet<>();
    for (StoredBackup b : plan.removals()) {
      assertTrue(restorable.contains(b.id()) && !kept.contains(b.id()), at + ": removes " + b.id());
      assertTrue(removed.add(b.id()), at + ": removed twice " + b.id());
      left.remove(b.id());
      for (String p : left.keySet()) { // kept or still to remove: every restorable point stays so
        if (restorable.contains(p)) {
          assertTrue(chainOf(left.get(p), left) != null, at + ": after removing " + b.id() + ", " + p + " is not restorable");
        }
      }
    }
    assertEquals(present.size() - kept.size(), removed.size(), at);
  }

  /**
   * Per disk of the point, the archives its restore reads: from the point down its parents to the
   * first archive holding the disk in full; null when some disk's chain runs into a missing archive,
   * a cycle or a backup without a parent before reaching a full copy.
   */
  static Map<String, List<String>> chainOf(StoredBackup point, Map<String, StoredBackup> byId) {
    Map<String, List<String>> out = new TreeMap<>();
    for (DiskManifest d : point.manifest().disks()) {
      List<String> chain = new ArrayList<>();
      StoredBackup cur = point;
      while (true) {
        if (cur == null || chain.contains(cur.id())) {
          return null;
        }
        chain.add(cur.id());
        if (cur.manifest().disk(d.name()).map(DiskManifest::isFull).orElse(false)) {
          break;
        }
        String parent = cur.manifest().parent().map(x -> x.archive()).orElse(null);
        cur = parent == null ? null : byId.get(parent);
      }
      out.put(d.name(), chain);
    }
    return out;
  }

  /**
   * Per kept point, the rules that keep it: for each rule, the restorable points grouped by their
   * bucket, the buckets ordered by their newest point, newest first; the newest point of each of
   * the first N buckets.
   */
  static Map<String, Set<String>> picks(List<StoredBackup> present, Set<String> restorable, RetentionPolicy policy) {
    Map<String, Set<String>> out = new HashMap<>();
    List<StoredBackup> points = present.stream().filter(b -> restorable.contains(b.id()))
        .sorted(Comparator.comparingLong(b -> b.manifest().created())).toList();
    for (RetentionRule rule : RetentionRule.values()) {
      int n = policy.count(rule);
      if (n == 0) {
        continue;
      }
      Map<Object, StoredBackup> newestOf = new HashMap<>();
      for (StoredBackup b : points) {
        newestOf.put(key(rule, b, policy.zone()), b); // later points overwrite: the newest stays
      }
      newestOf.values().stream().sorted(Comparator.comparingLong((StoredBackup b) -> b.manifest().created()).reversed())
          .limit(n).forEach(b -> out.computeIfAbsent(b.id(), k -> new TreeSet<>()).add(rule.option()));
    }
    return out;
  }

  private static Object key(RetentionRule rule, StoredBackup b, ZoneId zone) {
    LocalDateTime t = LocalDateTime.ofInstant(Instant.ofEpochSecond(b.manifest().created()), zone);
    return switch (rule) {
      case LAST -> b.id();
      case HOURLY -> t.truncatedTo(ChronoUnit.HOURS);
      case DAILY -> t.toLocalDate();
      case WEEKLY -> t.toLocalDate().with(WeekFields.ISO.dayOfWeek(), 1);
      case MONTHLY -> java.time.YearMonth.from(t);
      case YEARLY -> t.getYear();
    };
  }
}
