package org.tidemark.retention;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.Chains;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Finding;
import org.tidemark.archive.StoredBackup;

/**
 * Decides what a {@link RetentionPolicy} keeps of a domain's archives, from its {@link Chains}
 * alone (nothing is opened or removed here). A pure function of its inputs.
 *
 * <ol>
 *   <li>A point is <em>restorable</em> when its chain resolves ({@link Chains#walk(StoredBackup)})
 *       and each link of it holds ({@link Chains#linkFindings}). Points that are not are damaged:
 *       kept, with every archive their parent references reach, and never counted by a rule.
 *   <li>The rules pick points among the restorable ones, newest first, in the scan's order
 *       ({@link org.tidemark.archive.Repository#scan}: by when the backup started, to the
 *       nanosecond in archives of format version 3; at the same moment, which only archives of
 *       whole seconds written before version 3 can share, a backup after its parent, then by archive
 *       name). The calendar rules put a point in the hour, day, week, month or year of its
 *       manifest's {@code created}.
 *   <li>Kept is the union of the restore chains of the picked points: per disk, each archive from a
 *       point down to the disk's full copy. An archive kept so is a point that stays, so the chain of
 *       its own disks is kept too (a link may hold a disk the point that needs it has not: a disk
 *       since removed from the domain). Closed this way, the union is exactly what the picked points
 *       reach by their parent references (an archive names a parent only when some disk of it is
 *       incremental, and then its chain runs through that parent), which is how it is computed: each
 *       archive visited once. Every other readable archive is removed.
 * </ol>
 *
 * <p>The reason an archive is kept for a point: each kept archive naming it as parent needs it for
 * that archive's incremental disks ({@link PrunePlan.Need}).
 *
 * <p>Archives that cannot be read are never removed (their parents are unknown); they are reported in
 * {@link PrunePlan#unreadable()}.
 */
public final class PrunePlanner {
  private PrunePlanner() {}

  /** The plan of one domain under {@code policy}. */
  public static PrunePlan plan(String domain, Chains chains, RetentionPolicy policy) {
    List<StoredBackup> backups = chains.scan().backups();
    Set<String> badLinks = new HashSet<>();
    for (Finding f : chains.linkFindings()) {
      badLinks.add(f.archive().getFileName().toString());
    }
    // restorable: the chain resolves (constant time each, from one pass) and each of its links holds
    Map<String, String> damage = new HashMap<>();
    Set<String> firstOfName = new HashSet<>();
    for (StoredBackup b : backups) {
      boolean first = firstOfName.add(b.checkpoint()); // the archive a checkpoint name resolves to
      try {
        if (!badLinks.isEmpty() || !first) {
          List<StoredBackup> walk = chains.walk(b);
          walk.stream().filter(a -> badLinks.contains(a.id())).findFirst().ifPresent(a -> damage.put(b.id(),
              "its chain runs through " + a.id() + ", whose link to its parent does not hold"));
        } else {
          Optional<ArchiveException> problem = chains.problem(Optional.of(b.checkpoint()));
          if (problem.isPresent()) {
            throw problem.get();
          }
        }
      } catch (ArchiveException e) {
        damage.put(b.id(), Finding.of(e).problem());
      }
    }
    // the rules, each on its own, over the restorable points newest first
    Map<String, List<String>> rules = new LinkedHashMap<>();
    List<StoredBackup> newestFirst = new ArrayList<>();
    for (int i = backups.size() - 1; i >= 0; i--) {
      if (!damage.containsKey(backups.get(i).id())) {
        newestFirst.add(backups.get(i));
      }
    }
    for (Map.Entry<RetentionRule, Integer> rule : policy.rules().entrySet()) {
      int left = rule.getValue();
      String last = null;
      for (int rank = 1; rank <= newestFirst.size() && left > 0; rank++) {
        StoredBackup b = newestFirst.get(rank - 1);
        ZonedDateTime t = Instant.ofEpochSecond(b.manifest().created()).atZone(policy.zone());
        String bucket = rule.getKey().bucket(t, rank);
        if (!bucket.equals(last)) {
          rules.computeIfAbsent(b.id(), k -> new ArrayList<>()).add(rule.getKey().option() + " " + bucket);
          last = bucket;
          left--;
        }
      }
    }
    // kept: what the picked and the damaged points reach by their parent references (see the class
    // comment: the restore chains closed under "an archive kept is a point that stays")
    Map<String, StoredBackup> byId = new HashMap<>();
    backups.forEach(b -> byId.put(b.id(), b));
    Set<String> kept = new HashSet<>();
    List<StoredBackup> starts = new ArrayList<>();
    newestFirst.stream().filter(b -> rules.containsKey(b.id())).forEach(starts::add);
    backups.stream().filter(b -> damage.containsKey(b.id())).forEach(starts::add);
    for (StoredBackup start : starts) {
      for (StoredBackup a = start; a != null && kept.add(a.id()); ) {
        a = parent(a, byId);
      }
    }
    // why: each kept point that builds on an archive needs it for its incremental disks, newest first
    Map<String, List<PrunePlan.Need>> needs = new HashMap<>();
    Map<String, Integer> needCount = new HashMap<>();
    for (int i = backups.size() - 1; i >= 0; i--) {
      StoredBackup child = backups.get(i);
      StoredBackup p = kept.contains(child.id()) ? parent(child, byId) : null;
      if (p != null) {
        List<PrunePlan.Need> n = needs.computeIfAbsent(p.id(), k -> new ArrayList<>());
        if (n.size() < PrunePlan.Entry.MAX_NEEDS) {
          n.add(new PrunePlan.Need(child.checkpoint(), child.manifest().disks().stream().filter(d -> !d.isFull())
              .map(DiskManifest::name).sorted().toList()));
        }
        needCount.merge(p.id(), 1, Integer::sum);
      }
    }
    List<PrunePlan.Entry> entries = new ArrayList<>();
    for (StoredBackup b : backups) {
      entries.add(new PrunePlan.Entry(b, kept.contains(b.id()) ? PrunePlan.Action.KEEP : PrunePlan.Action.REMOVE,
          rules.getOrDefault(b.id(), List.of()), needs.getOrDefault(b.id(), List.of()), needCount.getOrDefault(b.id(), 0),
          Optional.ofNullable(damage.get(b.id()))));
    }
    return new PrunePlan(domain, policy, entries, chains.scan().unreadable());
  }

  /** The archive {@code b} names as parent, when the folder has it (and it is not {@code b} itself). */
  private static StoredBackup parent(StoredBackup b, Map<String, StoredBackup> byId) {
    StoredBackup p = b.manifest().parent().map(r -> byId.get(r.archive())).orElse(null);
    return p == b ? null : p;
  }
}
