package org.tidemark.retention;

import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tidemark.archive.DiskDecision;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.ExtentRecord;
import org.tidemark.archive.Manifest;
import org.tidemark.archive.ParentRef;
import org.tidemark.archive.StoredBackup;

/**
 * A seeded history of a domain's backups, as manifests only (no archive is written): points
 * minutes to days apart, disk vda throughout, vdb added at some point, vdc removed at some point,
 * per-disk fallbacks to a full copy, now and then a full backup of every disk, and now and then a
 * point whose base is an older point than the newest (a branch, as after a restore).
 */
final class History {
  static final Path DIR = Path.of("/nonexistent/repo/vm");
  static final long START = 1_767_225_600L; // 2026-01-01T00:00:00Z

  final List<StoredBackup> backups = new ArrayList<>();

  History(long seed, int n) {
    this("vm", seed, n);
  }

  History(String domain, long seed, int n) {
    Random r = new Random(seed);
    long t = START + r.nextInt(86_400);
    int vdbFrom = r.nextInt(n + 1); // n + 1: never added
    int vdcUntil = r.nextInt(n + 1);
    double fallback = 0.05 + 0.25 * r.nextDouble();
    for (int i = 0; i < n; i++) {
      t += switch (r.nextInt(4)) { // gaps of minutes, hours, a day, days
        case 0 -> 60 + r.nextInt(3_600);
        case 1 -> 3_600 + r.nextInt(6 * 3_600);
        case 2 -> 86_400 + r.nextInt(600) - 300;
        default -> 86_400 * (1 + r.nextInt(9)) + r.nextInt(86_400);
      };
      StoredBackup parent = backups.isEmpty() ? null
          : r.nextInt(8) == 0 ? backups.get(r.nextInt(backups.size())) : backups.get(backups.size() - 1);
      boolean allFull = parent == null || r.nextInt(10) == 0;
      List<String> names = new ArrayList<>(List.of("vda"));
      if (i >= vdbFrom) {
        names.add("vdb");
      }
      if (i < vdcUntil) {
        names.add("vdc");
      }
      List<DiskManifest> disks = new ArrayList<>();
      for (String d : names) {
        boolean inParent = parent != null && parent.manifest().disk(d).isPresent();
        boolean full = allFull || !inParent || r.nextDouble() < fallback;
        disks.add(full
            ? new DiskManifest(d, DiskManifest.FULL, inParent ? DiskDecision.BITMAP_MISSING : DiskDecision.NO_BASE_BACKUP, "", 1 << 20, 65536,
                List.of(new ExtentRecord(0, 1 << 20, true)))
            : new DiskManifest(d, DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "", 1 << 20, 65536,
                List.of(new ExtentRecord(0, 65536, true))));
      }
      boolean everyFull = disks.stream().allMatch(DiskManifest::isFull);
      String cp = String.format("cp%03d", i);
      ParentRef ref = everyFull ? null : new ParentRef(parent.checkpoint(), parent.id());
      Manifest m = Manifest.of("test", domain, cp, t, Optional.ofNullable(ref), disks);
      backups.add(new StoredBackup(DIR.resolve(cp + ".tar"), m, 1000 + i));
    }
  }

  /** The backups by archive name, oldest first. */
  Map<String, StoredBackup> byId() {
    Map<String, StoredBackup> m = new LinkedHashMap<>();
    backups.forEach(b -> m.put(b.id(), b));
    return m;
  }
}
