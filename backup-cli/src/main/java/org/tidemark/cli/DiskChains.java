package org.tidemark.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.ArchiveCorruptException;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.ParentRef;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;

/**
 * Per point and disk, the archives a restore of that disk reads: from the point's archive down its
 * parents to the first that holds the disk in full. After a fallback these differ per disk (a disk
 * backed up in full needs its point's archive alone, its neighbour the whole chain). Resolved from
 * one scan's manifests; no archive is opened.
 */
final class DiskChains {
  private final Map<String, StoredBackup> byId = new HashMap<>();

  /**
   * One disk's chain.
   *
   * @param archives the archive file names, newest first, as far as the chain resolves
   * @param restoredBytes guest data a restore writes for the disk, when the chain resolves
   * @param problem why the chain does not resolve, when it does not
   */
  record Chain(List<String> archives, Optional<Long> restoredBytes, Optional<String> problem) {}

  DiskChains(Repository.Scan scan) {
    scan.backups().forEach(b -> byId.put(b.id(), b));
  }

  /** The chain of {@code disk} at the point {@code head} saved. */
  Chain of(StoredBackup head, String disk) {
    List<String> names = new ArrayList<>();
    List<RestorePlanner.Layer> layers = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    StoredBackup b = head;
    while (true) {
      names.add(b.id());
      seen.add(b.id());
      layers.add(new RestorePlanner.Layer(b.path(), b.manifest(), List.of()));
      Optional<DiskManifest> d = b.manifest().disk(disk);
      if (d.isEmpty()) {
        return broken(names, "archive " + b.id() + " lacks disk " + disk);
      }
      if (d.get().isFull()) {
        break;
      }
      Optional<ParentRef> parent = b.manifest().parent();
      if (parent.isEmpty()) {
        return broken(names, "no full backup of disk " + disk + " in the chain");
      }
      StoredBackup next = byId.get(parent.get().archive());
      if (next == null || seen.contains(next.id())) {
        return broken(names, "parent archive " + parent.get().archive() + " (checkpoint " + parent.get().checkpoint()
            + ") is " + (next == null ? "missing or unreadable" : "a cycle"));
      }
      b = next;
    }
    try {
      return new Chain(List.copyOf(names), Optional.of(RestorePlanner.dataBytes(disk, layers)), Optional.empty());
    } catch (ArchiveCorruptException e) {
      return broken(names, e.getMessage());
    }
  }

  private static Chain broken(List<String> names, String problem) {
    return new Chain(List.copyOf(names), Optional.empty(), Optional.of(problem));
  }
}
