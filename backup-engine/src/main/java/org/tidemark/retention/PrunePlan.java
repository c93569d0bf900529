package org.tidemark.retention;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.tidemark.archive.Finding;
import org.tidemark.archive.StoredBackup;

/**
 * What a prune of one domain keeps and removes, and why, as {@link PrunePlanner} decided it.
 *
 * @param domain the domain
 * @param policy the policy applied
 * @param entries one per readable archive, in the order of the domain's scan (oldest first)
 * @param unreadable the archives that could not be read: never removed, and their parents cannot be
 *     known, so a domain with any is {@linkplain #damaged() damaged}
 */
public record PrunePlan(String domain, RetentionPolicy policy, List<Entry> entries, List<Finding> unreadable) {
  /** Freezes the lists. */
  public PrunePlan {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(policy, "policy");
    entries = List.copyOf(entries);
    unreadable = List.copyOf(unreadable);
  }

  /** What happens to one archive. */
  public enum Action {
    /** It stays. */
    KEEP,
    /** It is removed. */
    REMOVE
  }

  /**
   * A kept point that builds on an archive (names it as parent): its incremental disks are restored
   * through the archive.
   *
   * @param checkpoint the kept point's checkpoint
   * @param disks its incremental disks, sorted
   */
  public record Need(String checkpoint, List<String> disks) {
    /** Freezes the list. */
    public Need {
      disks = List.copyOf(disks);
    }
  }

  /**
   * One archive's fate.
   *
   * @param backup the archive
   * @param action keep or remove
   * @param rules the rules that keep this point, each with its bucket ({@code keep-daily 2026-12-04})
   * @param neededBy the first kept points that build on this archive, newest first, at most {@link
   *     #MAX_NEEDS} (more than one after a branch: two backups incremental on one base)
   * @param neededByCount how many kept points build on it in all
   * @param damage why the point cannot be restored, when it cannot (then it is kept, and so is every
   *     archive its parent references reach)
   */
  public record Entry(StoredBackup backup, Action action, List<String> rules, List<Need> neededBy, int neededByCount,
      Optional<String> damage) {
    /** The most needs an entry lists. */
    public static final int MAX_NEEDS = 3;

    /** Freezes the lists. */
    public Entry {
      Objects.requireNonNull(backup, "backup");
      Objects.requireNonNull(action, "action");
      rules = List.copyOf(rules);
      neededBy = List.copyOf(neededBy);
      Objects.requireNonNull(damage, "damage");
    }

    /** Whether it stays. */
    public boolean kept() {
      return action == Action.KEEP;
    }

    /**
     * Why, in words: the rules that keep it, else the first kept point that needs it and for which
     * disks, else that it cannot be restored, else that no rule keeps it.
     */
    public String reason() {
      if (!rules.isEmpty()) {
        return String.join(", ", rules);
      }
      if (!neededBy.isEmpty()) {
        Need n = neededBy.get(0);
        return "needed by kept point " + n.checkpoint() + " for disk" + (n.disks().size() == 1 ? " " : "s ")
            + String.join(", ", n.disks()) + (neededByCount > 1 ? " (and " + (neededByCount - 1) + " more)" : "");
      }
      if (damage.isPresent()) {
        return "damaged, never removed by a policy: " + damage.get();
      }
      return "no rule keeps it and no kept point needs it";
    }
  }

  /** The archives kept, oldest first. */
  public List<StoredBackup> kept() {
    return entries.stream().filter(Entry::kept).map(Entry::backup).toList();
  }

  /** The points that cannot be restored (each is kept), oldest first. */
  public List<Entry> damagedPoints() {
    return entries.stream().filter(e -> e.damage().isPresent()).toList();
  }

  /**
   * Whether the domain has unreadable archives or points that cannot be restored: then {@link
   * Pruner} removes nothing unless told to go ahead, as what such archives depend on cannot be
   * fully known.
   */
  public boolean damaged() {
    return !unreadable.isEmpty() || entries.stream().anyMatch(e -> e.damage().isPresent());
  }

  /**
   * The archives to remove, dependents first: an archive comes only after every archive to remove
   * that names it as parent. Removing them in this order, a point still present always has its
   * whole chain present.
   */
  public List<StoredBackup> removals() {
    List<StoredBackup> remove = entries.stream().filter(e -> !e.kept()).map(Entry::backup).toList();
    Map<String, StoredBackup> byId = new HashMap<>();
    remove.forEach(b -> byId.put(b.id(), b));
    Map<String, Integer> children = new HashMap<>(); // per archive to remove: its children still to remove
    for (StoredBackup b : remove) {
      parentIn(b, byId).ifPresent(p -> children.merge(p.id(), 1, Integer::sum));
    }
    List<StoredBackup> order = new ArrayList<>();
    for (StoredBackup b : remove) {
      if (!children.containsKey(b.id())) {
        order.add(b); // a leaf of the removed set
      }
    }
    for (int i = 0; i < order.size(); i++) { // each removed archive frees its parent once its last child is gone
      Optional<StoredBackup> p = parentIn(order.get(i), byId);
      if (p.isPresent() && children.merge(p.get().id(), -1, Integer::sum) == 0) {
        order.add(p.get());
      }
    }
    if (order.size() != remove.size()) {
      throw new IllegalStateException("archives to remove lead into a cycle: " + remove.size() + " to remove, "
          + order.size() + " ordered"); // never: an archive on a cycle cannot be restored, so it is kept
    }
    return order;
  }

  private static Optional<StoredBackup> parentIn(StoredBackup b, Map<String, StoredBackup> byId) {
    return b.manifest().parent().map(p -> byId.get(p.archive())).filter(p -> p != b);
  }
}
