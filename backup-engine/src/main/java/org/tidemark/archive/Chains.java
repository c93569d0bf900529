package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The restore chains of one domain's backups, resolved in memory from one {@link Repository.Scan}:
 * no archive is opened again, whatever the number of backups and chains asked for.
 *
 * <p>A chain runs from its newest backup (the head) down its parents until every disk of the head
 * has a full copy. {@link #chain} walks it (work in proportion to its length); {@link #problem}
 * says whether it resolves, in constant time after a first pass over all backups, so that every
 * backup's chain of a domain of N backups is checked in O(N) (walking each would be O(N²) for one
 * long chain).
 *
 * <p>Not thread-safe: the first call to {@link #problem} fills a memo.
 */
public final class Chains {
  private final Path dir;
  private final String domain;
  private final Repository.Scan scan;
  private final Map<String, StoredBackup> byId = new HashMap<>();
  private final Map<String, StoredBackup> byCheckpoint = new HashMap<>();
  private final Map<String, Integer> index = new HashMap<>();
  /** Per backup (index in the scan), where its walk ends when it does not stop early; filled by {@link #resolve}. */
  private int[] terminal;
  /** Per backup, the disks with a full copy on its walk from it to its terminal. */
  private List<Set<String>> covered;

  Chains(Path dir, String domain, Repository.Scan scan) {
    this.dir = dir;
    this.domain = domain;
    this.scan = scan;
    for (StoredBackup b : scan.backups()) {
      index.put(b.id(), index.size());
      byId.put(b.id(), b);
      byCheckpoint.putIfAbsent(b.checkpoint(), b); // the first in scan order, as a restore takes it
    }
  }

  /**
   * The chains of a scan made elsewhere ({@link Repository#chains} scans and resolves in one step):
   * for a planner that works on a scan it was given, such as prune's tests on histories built in
   * memory.
   *
   * @param dir the domain's folder, named in messages
   */
  public static Chains of(Path dir, String domain, Repository.Scan scan) {
    return new Chains(dir, domain, scan);
  }

  /** The scan the chains were resolved from. */
  public Repository.Scan scan() {
    return scan;
  }

  /**
   * The chain a restore of {@code checkpoint} needs, newest first: its backup, then its parents,
   * until every disk of the newest backup has a full copy; its links checked ({@link
   * ArchiveConsistency#checkChain}: each parent the one named, of the same domain, holding each
   * incremental disk at the same size).
   *
   * <p>Without a checkpoint the point is the newest backup of the domain, and only that one: when
   * the newest archive cannot be read, this fails (naming it and the points that can be restored
   * instead) rather than fall back to an older point. An archive that cannot be read has no
   * creation time; it counts as the newest when its file was last modified at or after the
   * creation time (whole seconds) of the newest backup that can be read, a tie counting against
   * the readable one.
   *
   * @param checkpoint the checkpoint to restore; empty for the newest backup
   * @throws ArchiveException when there is no such backup
   * @throws ArchiveCorruptException ({@link NewestUnreadableException}) when the newest archive (without a checkpoint) cannot be read,
   *     or a parent is missing or unreadable ({@link UnreadableArchivesException}, with the folder's
   *     unreadable archives as findings, when there are any)
   * @throws ArchiveInconsistentException when the links of the chain contradict each other
   */
  public List<StoredBackup> chain(Optional<String> checkpoint) throws IOException {
    StoredBackup head = head(checkpoint);
    if (checkpoint.isEmpty()) {
      Optional<Finding> newer = unreadableNewerThan(head);
      if (newer.isPresent()) {
        List<String> restorable = restorable();
        throw new NewestUnreadableException(newer.get().archive(), newer.get().where(), "the newest backup of domain '" + domain
            + "' cannot be read (" + newer.get().problem() + "); a restore that names no checkpoint takes the newest"
            + " point only; " + restorable.size() + " older point(s) can be restored by naming them", restorable);
      }
    }
    List<StoredBackup> chain = walk(head);
    ArchiveInconsistentException.throwIfAny(ArchiveConsistency.checkChain(chain));
    return chain;
  }

  /**
   * The chain of {@code checkpoint} as its parent references lead, without checking its links or
   * whether a newer archive is unreadable ({@link #chain} does both).
   *
   * @throws ArchiveException when there is no such backup, or a parent is missing or unreadable
   */
  public List<StoredBackup> walk(Optional<String> checkpoint) throws ArchiveException {
    return walk(head(checkpoint));
  }

  /**
   * The chain of {@code head}, a backup of the scan, as its parent references lead: {@link
   * #walk(Optional)} for one archive rather than a checkpoint name (two archives may save the
   * same checkpoint).
   *
   * @throws ArchiveException when a parent is missing, unreadable or a cycle, or a disk has no full copy
   */
  public List<StoredBackup> walk(StoredBackup head) throws ArchiveException {
    List<StoredBackup> chain = new ArrayList<>();
    Set<String> inChain = new HashSet<>();
    Set<String> needFull = new HashSet<>();
    head.manifest().disks().forEach(d -> needFull.add(d.name()));
    StoredBackup b = head;
    while (true) {
      chain.add(b);
      inChain.add(b.id());
      b.manifest().disks().stream().filter(DiskManifest::isFull).forEach(d -> needFull.remove(d.name()));
      if (needFull.isEmpty()) {
        return chain;
      }
      Optional<ParentRef> parent = b.manifest().parent();
      if (parent.isEmpty()) {
        throw noFullBackup(b, needFull);
      }
      StoredBackup next = byId.get(parent.get().archive());
      if (next == null || inChain.contains(next.id())) {
        throw badParent(b, parent.get(), next == null);
      }
      b = next;
    }
  }

  /**
   * Every link between a backup and the parent it names, checked once ({@link
   * ArchiveConsistency#checkChain} of the pair): a chain's links hold when each of its pairs does,
   * so verify checks every chain of the domain in O(N). Parents that are missing are {@link
   * #problem}'s to report.
   */
  public List<Finding> linkFindings() {
    List<Finding> findings = new ArrayList<>();
    for (StoredBackup b : scan.backups()) {
      Optional<ParentRef> p = b.manifest().parent();
      StoredBackup parent = p.isEmpty() ? null : byId.get(p.get().archive());
      if (parent != null && parent != b) {
        findings.addAll(ArchiveConsistency.checkChain(List.of(b, parent)));
      }
    }
    return findings;
  }

  /**
   * The newest of the archives that cannot be read, if it was modified at or after the creation
   * time of {@code newest}, the newest readable backup (see {@link #chain}).
   */
  private Optional<Finding> unreadableNewerThan(StoredBackup newest) throws IOException {
    Finding found = null;
    long foundTime = Long.MIN_VALUE;
    for (Finding f : scan.unreadable()) {
      long modified;
      try {
        modified = Files.getLastModifiedTime(f.archive()).toMillis();
      } catch (NoSuchFileException e) {
        continue; // removed since the scan
      }
      if (modified >= newest.manifest().created() * 1000 && modified >= foundTime) {
        found = f;
        foundTime = modified;
      }
    }
    return Optional.ofNullable(found);
  }

  /** The checkpoints whose chains resolve and hold together, newest first. */
  private List<String> restorable() {
    List<String> out = new ArrayList<>();
    for (int i = scan.backups().size() - 1; i >= 0; i--) {
      StoredBackup b = scan.backups().get(i);
      try {
        if (ArchiveConsistency.checkChain(walk(b)).isEmpty()) {
          out.add(b.checkpoint());
        }
      } catch (ArchiveException e) {
        // not restorable
      }
    }
    return out;
  }

  /**
   * What {@link #chain} would throw for {@code checkpoint}, without walking the chain: empty when it
   * resolves. The first call resolves every backup of the scan at once (O(N)); each call after it
   * costs the head's number of disks.
   */
  public Optional<ArchiveException> problem(Optional<String> checkpoint) {
    StoredBackup head;
    try {
      head = head(checkpoint);
    } catch (ArchiveException e) {
      return Optional.of(e);
    }
    if (terminal == null) {
      resolve();
    }
    int h = index.get(head.id());
    Set<String> needFull = new HashSet<>();
    head.manifest().disks().forEach(d -> needFull.add(d.name()));
    needFull.removeAll(covered.get(h));
    if (needFull.isEmpty()) {
      return Optional.empty();
    }
    StoredBackup t = scan.backups().get(terminal[h]);
    Optional<ParentRef> parent = t.manifest().parent();
    if (parent.isEmpty()) {
      return Optional.of(noFullBackup(t, needFull));
    }
    return Optional.of(badParent(t, parent.get(), !byId.containsKey(parent.get().archive())));
  }

  /** The newest backup of the chain: the one of {@code checkpoint}, or the newest of the domain. */
  private StoredBackup head(Optional<String> checkpoint) throws ArchiveException {
    if (checkpoint.isPresent()) {
      StoredBackup found = byCheckpoint.get(checkpoint.get());
      if (found == null) {
        throw missing("no backup of checkpoint '" + checkpoint.get() + "' (backups: "
            + scan.backups().stream().map(StoredBackup::checkpoint).toList() + ")");
      }
      return found;
    }
    if (scan.backups().isEmpty()) {
      throw missing("no backups of domain '" + domain + "'");
    }
    return scan.backups().get(scan.backups().size() - 1);
  }

  /**
   * Fills {@link #terminal} and {@link #covered} for every backup, each visited once. The parent
   * links form a functional graph: from a backup, its walk follows parents until one has no parent
   * or a missing one (that backup is the terminal of every backup above it), or until it would
   * visit a backup again (a cycle: the walk from a backup on the cycle ends at the one just before
   * it on the cycle, and covers the whole cycle; a backup leading into the cycle ends where the
   * backup it enters by ends).
   */
  private void resolve() {
    List<StoredBackup> backups = scan.backups();
    int n = backups.size();
    int[] parent = new int[n]; // -1: none or missing
    for (int i = 0; i < n; i++) {
      Optional<ParentRef> p = backups.get(i).manifest().parent();
      parent[i] = p.isPresent() && index.containsKey(p.get().archive()) ? index.get(p.get().archive()) : -1;
    }
    terminal = new int[n];
    covered = new ArrayList<>(Collections.nCopies(n, null));
    byte[] state = new byte[n]; // 0 not seen, 1 on the current path, 2 resolved
    int[] pos = new int[n]; // a backup's place on the current path
    int[] path = new int[n];
    for (int start = 0; start < n; start++) {
      if (state[start] != 0) {
        continue;
      }
      int len = 0;
      int cur = start;
      while (true) {
        state[cur] = 1;
        pos[cur] = len;
        path[len++] = cur;
        int p = parent[cur];
        if (p < 0) { // the walk ends here
          terminal[cur] = cur;
          covered.set(cur, fullDisks(backups.get(cur), Set.of()));
          state[cur] = 2;
          len--;
          break;
        }
        if (state[p] == 2) {
          break;
        }
        if (state[p] == 1) { // a cycle: path[pos[p] .. len)
          Set<String> all = new HashSet<>();
          for (int k = pos[p]; k < len; k++) {
            fullDisks(backups.get(path[k]), Set.of()).forEach(all::add);
          }
          Set<String> shared = Set.copyOf(all);
          for (int k = pos[p]; k < len; k++) {
            int c = path[k];
            terminal[c] = path[k == pos[p] ? len - 1 : k - 1]; // the one whose parent it is
            covered.set(c, shared);
            state[c] = 2;
          }
          len = pos[p];
          break;
        }
        cur = p;
      }
      for (int k = len - 1; k >= 0; k--) { // the rest of the path, from its bottom up
        int c = path[k];
        terminal[c] = terminal[parent[c]];
        covered.set(c, fullDisks(backups.get(c), covered.get(parent[c])));
        state[c] = 2;
      }
    }
  }

  /** {@code below} with the disks {@code b} holds in full: the same set when it adds none. */
  private static Set<String> fullDisks(StoredBackup b, Set<String> below) {
    Set<String> out = null;
    for (DiskManifest d : b.manifest().disks()) {
      if (d.isFull() && !below.contains(d.name()) && (out == null || !out.contains(d.name()))) {
        if (out == null) {
          out = new HashSet<>(below);
        }
        out.add(d.name());
      }
    }
    return out == null ? below : Set.copyOf(out);
  }

  private static ArchiveCorruptException noFullBackup(StoredBackup b, Set<String> needFull) {
    return new ArchiveCorruptException(b.path(), "disks " + needFull + " have no full backup in the chain");
  }

  private ArchiveCorruptException badParent(StoredBackup b, ParentRef parent, boolean missing) {
    return corrupt(b.path(), "parent backup '" + parent.archive() + "' (checkpoint '" + parent.checkpoint() + "') is "
        + (missing ? "missing or unreadable" : "a cycle"));
  }

  /**
   * No usable backup: a plain "no such backup" when the folder holds nothing else, a corruption
   * giving the archives that could not be read when it does (they may be the ones asked for).
   */
  private ArchiveException missing(String message) {
    if (scan.unreadable().isEmpty()) {
      return new UnknownPointException(dir, message);
    }
    return corrupt(dir, message);
  }

  /** A corruption in {@code file}, with the folder's unreadable archives as findings when there are any. */
  private ArchiveCorruptException corrupt(Path file, String problem) {
    return scan.unreadable().isEmpty() ? new ArchiveCorruptException(file, problem)
        : new UnreadableArchivesException(file, problem, scan.unreadable());
  }
}
