package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;
import org.tidemark.retention.PruneFixtures;
import org.tidemark.retention.PrunePlan;
import org.tidemark.retention.RealHistory;
import org.tidemark.retention.RetentionPolicy;
import org.tidemark.retention.RetentionRule;

/**
 * {@code kill -9} of {@code tidemark prune} (a child JVM) at seeded moments: half of the kills
 * right after a seeded number of removals were reported (then a seeded 0-2 ms), a quarter at a
 * seeded time within the span of the removals (measured on an uninterrupted run) after the plan is
 * printed, a quarter at a seeded time from the start. After each: no kept point is gone, the repository verifies and lists clean,
 * every point still there restores identical to QEMU's copy of its disks ({@code qemu-img
 * compare}), and a second run finishes the work.
 */
class PruneKillTest {
  private static final int KILLS = 8;

  @TempDir Path dir;

  private static Process start(Path repo) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "org.tidemark.cli.Main", "prune",
        "--repo", repo.toString(), "--domain", "vm", "--keep-last", "2");
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Reads the run's output until its plan is printed and {@code removals} removals are reported. */
  private static void awaitLines(BufferedReader r, List<String> seen, int removals) throws Exception {
    int reported = -1;
    for (String line; reported < removals && (line = r.readLine()) != null; ) {
      seen.add(line);
      if (line.startsWith("domain vm")) {
        reported = 0;
      } else if (line.startsWith("  removed ")) {
        reported++;
      }
    }
  }

  private static void copy(Path from, Path to) throws Exception {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  private static Set<String> archives(Path repo) throws Exception {
    Set<String> out = new HashSet<>();
    for (StoredBackup b : Repository.at(repo).scan("vm").backups()) {
      out.add(b.checkpoint());
    }
    return out;
  }

  @Test
  void killedAtSeededMomentsPruneLeavesEveryPointRestorableOrGoneAndARerunFinishes() throws Exception {
    RealHistory h = RealHistory.build(dir.resolve("history"), 23, 14);
    RetentionPolicy policy = RetentionPolicy.builder().keep(RetentionRule.LAST, 2).build();
    PrunePlan plan = PruneFixtures.plan(h.repo, "vm", policy);
    Set<String> kept = new HashSet<>(plan.kept().stream().map(StoredBackup::checkpoint).toList());
    int removals = plan.removals().size();
    assertTrue(removals >= 8, removals + " archives to remove");
    Set<String> all = archives(h.repo);

    // an uninterrupted run, for the span of the seeded delays: its start-up, and its removals (from the
    // printed plan to the last reported removal)
    Path probe = dir.resolve("probe");
    copy(h.repo, probe);
    long t0 = System.nanoTime();
    Process p0 = start(probe);
    BufferedReader r0 = new BufferedReader(new InputStreamReader(p0.getInputStream(), StandardCharsets.UTF_8));
    long planned = 0;
    long lastRemoved = 0;
    StringBuilder out0 = new StringBuilder();
    for (String line; (line = r0.readLine()) != null; ) {
      out0.append(line).append('\n');
      planned = line.startsWith("domain vm") ? System.nanoTime() : planned;
      lastRemoved = line.startsWith("  removed ") ? System.nanoTime() : lastRemoved;
    }
    assertTrue(p0.waitFor(120, TimeUnit.SECONDS));
    long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    long removingMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(lastRemoved - planned));
    assertEquals(0, p0.exitValue(), out0.toString());
    assertEquals(kept, archives(probe), out0.toString());

    Random seeded = new Random(20261205);
    int midway = 0;
    for (int k = 0; k < KILLS; k++) {
      Path repo = dir.resolve("repo-" + k);
      copy(h.repo, repo);
      Process p = start(repo);
      String at;
      List<String> seen = new ArrayList<>();
      BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      if (k % 4 == 3) { // anywhere in the run, start-up included
        long delay = (long) (seeded.nextDouble() * runMs);
        at = "killed " + delay + " ms after its start (a run takes " + runMs + " ms)";
        Thread.sleep(delay);
      } else if (k % 4 == 1) { // while removing: a seeded time after the plan is printed
        long delay = (long) (seeded.nextDouble() * removingMs);
        at = "killed " + delay + " ms after printing its plan (its removals take " + removingMs + " ms)";
        awaitLines(r, seen, 0);
        Thread.sleep(delay);
      } else { // after a seeded number of reported removals (0: once the plan is printed), then 0-2 ms
        int after = seeded.nextInt(removals);
        long pause = seeded.nextInt(3);
        at = "killed " + pause + " ms after " + after + " reported removals";
        awaitLines(r, seen, after);
        Thread.sleep(pause);
      }
      p.destroyForcibly();
      assertTrue(p.waitFor(60, TimeUnit.SECONDS));
      at += " " + seen;

      Set<String> left = archives(repo);
      assertTrue(all.containsAll(left), at);
      assertTrue(left.containsAll(kept), at + ": every kept point is there: " + left);
      midway += left.size() > kept.size() && left.size() < all.size() ? 1 : 0;
      Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
      assertEquals(0, verify.code(), at + ": " + verify);
      Cli.Result list = Cli.run("list", "--repo", repo.toString());
      assertEquals(0, list.code(), at + ": " + list);
      for (String point : left) {
        h.assertRestoresIdentical(repo, point, dir);
      }
      Cli.Result rerun = Cli.run("prune", "--repo", repo.toString(), "--domain", "vm", "--keep-last", "2");
      assertEquals(0, rerun.code(), at + ": " + rerun);
      assertEquals(kept, archives(repo), at + ": the rerun finished the work");
    }
    assertTrue(midway >= KILLS / 4, midway + " of " + KILLS + " kills landed between the first and the last removal");
    System.out.printf("prune of %d archives (keep %d) in %d ms, removals %d ms; %d of %d kills landed mid-way%n",
        all.size(), kept.size(), runMs, removingMs, midway, KILLS);
  }
}
