package org.tidemark.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;
import org.tidemark.retention.PrunePlan;
import org.tidemark.retention.Pruner;
import org.tidemark.retention.RetentionPolicy;
import org.tidemark.retention.RetentionPolicyException;
import org.tidemark.retention.RetentionRule;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tidemark prune}: removes the backups a retention policy does not keep, and nothing a kept one needs. */
@Command(name = "prune", mixinStandardHelpOptions = true,
    description = {"Remove the backups a retention policy does not keep (as restic and borg keep them), never an"
        + " archive a kept point's restore needs (per disk, after fallbacks). Prints what it keeps and removes, and why.",
        "Archives that cannot be read and points whose chain cannot be restored are never removed; a domain that has"
            + " any is left untouched (exit 4) unless --allow-damaged.",
        "Holds the domain's repository lock: killed at any moment, every point is restorable or gone; run it again"
            + " to finish."})
final class PruneCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Which which;

  /** One domain, or all of them: never all by default. */
  static final class Which {
    @Option(names = "--domain", paramLabel = "NAME", description = "Prune this domain.")
    String domain;

    @Option(names = "--all", description = "Prune every domain of the repository.")
    boolean all;
  }

  @Option(names = "--keep-last", paramLabel = "N", description = "Keep the N newest points.")
  int keepLast;

  @Option(names = "--keep-hourly", paramLabel = "N", description = "Keep the newest point of each of the last N hours that have one.")
  int keepHourly;

  @Option(names = "--keep-daily", paramLabel = "N", description = "Keep the newest point of each of the last N days that have one.")
  int keepDaily;

  @Option(names = "--keep-weekly", paramLabel = "N",
      description = "Keep the newest point of each of the last N ISO weeks (Monday to Sunday) that have one.")
  int keepWeekly;

  @Option(names = "--keep-monthly", paramLabel = "N", description = "Keep the newest point of each of the last N months that have one.")
  int keepMonthly;

  @Option(names = "--keep-yearly", paramLabel = "N", description = "Keep the newest point of each of the last N years that have one.")
  int keepYearly;

  @Option(names = "--time-zone", paramLabel = "ZONE",
      description = "The zone days, weeks, months and years are counted in (default: the system's, ${DEFAULT-VALUE}).")
  String timeZone = ZoneId.systemDefault().getId();

  @Option(names = "--dry-run", description = "Print what would be kept and removed; remove nothing (takes no lock).")
  boolean dryRun;

  @Option(names = "--allow-damaged",
      description = "Prune a domain that has unreadable archives or points that cannot be restored (they are kept).")
  boolean allowDamaged;

  @Option(names = "--lock-wait", paramLabel = "SECONDS", defaultValue = "0",
      description = {"When another tidemark run holds a domain's lock, wait up to SECONDS for it (default: "
          + "${DEFAULT-VALUE}, refuse at once with exit code 8)."})
  long lockWaitSeconds;

  @Mixin OutputOptions output;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    RetentionPolicy policy = policy();
    if (lockWaitSeconds < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--lock-wait " + lockWaitSeconds
          + ": expected 0 or more seconds");
    }
    Repository repository = Repository.at(repo);
    List<String> domains = ListCommand.domains(repository, which.all ? null : which.domain);
    Pruner pruner = new Pruner(repository);
    Pruner.Options options = new Pruner.Options(dryRun, allowDamaged, Duration.ofSeconds(lockWaitSeconds));
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    List<Map<String, Object>> docs = new ArrayList<>();
    int code = ExitCodes.OK;
    for (String d : domains) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("domain", d);
      Pruner.Result result;
      List<StoredBackup> removedSoFar = new ArrayList<>();
      try {
        result = pruner.prune(d, policy, options, new Pruner.Listener() {
          @Override
          public void planned(PrunePlan plan) {
            if (output.text()) {
              printPlan(plan);
            }
          }

          @Override
          public void removed(StoredBackup b) {
            removedSoFar.add(b);
            if (output.text()) {
              out.println("  removed " + Printable.escape(b.checkpoint()) + " (" + Printable.escape(b.id()) + ")");
              out.flush();
            }
          }
        });
      } catch (java.io.IOException e) {
        // locked, or a removal failed: the other domains are still pruned, the run says which one was not
        // (every point of this one is still restorable: removals go dependents first)
        ErrorReporter.domainFailed(e, doc, err);
        doc.put("removedBeforeFailure", removedSoFar.stream().map(b -> b.path().toString()).toList());
        docs.add(doc);
        code = ExitCodes.worse(code, ErrorReporter.exitCodeFor(e));
        continue;
      }
      PrunePlan plan = result.plan();
      boolean damaged = plan.damaged();
      doc.put("status", result.dryRun() ? "dry-run" : result.refused() ? "refused-damaged" : "pruned");
      describe(doc, result);
      docs.add(doc);
      if (damaged) {
        for (Finding f : plan.unreadable()) {
          err.println(Printable.escape("tidemark: " + f));
        }
        for (PrunePlan.Entry e : plan.damagedPoints()) {
          err.println(Printable.escape("tidemark: " + e.backup().path() + ": cannot be restored: " + e.damage().orElseThrow()));
        }
        if (result.refused()) {
          err.println(Printable.escape("tidemark: domain '" + d + "' is damaged: nothing of it was removed (what an"
              + " unreadable archive needs cannot be known); repair or remove the damaged archives, or give"
              + " --allow-damaged to prune the rest"));
        }
        err.flush();
        code = ExitCodes.worse(code, ExitCodes.CORRUPT_ARCHIVE);
      }
      if (output.text()) {
        long freed = result.removed().stream().mapToLong(StoredBackup::size).sum();
        long toFree = plan.removals().stream().mapToLong(StoredBackup::size).sum();
        out.println(result.dryRun()
            ? String.format("  dry run: would keep %d, remove %d archive(s) (%s); nothing removed", plan.kept().size(),
                plan.removals().size(), Units.bytes(toFree))
            : String.format("  kept %d, removed %d archive(s) (%s freed)%s", plan.kept().size(), result.removed().size(),
                Units.bytes(freed), result.leftoversRemoved().isEmpty() ? ""
                    : ", " + result.leftoversRemoved().size() + " leftover temporary file(s) removed"));
        out.flush();
      }
    }
    if (output.document()) {
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("dryRun", dryRun);
      fields.put("policy", policyDoc(policy));
      fields.put("domains", docs);
      output.printResult(spec.commandLine(), "prune", fields, code);
    }
    return code;
  }

  /** The policy of the options; none, or a negative count, is a usage error. */
  private RetentionPolicy policy() {
    int[] counts = {keepLast, keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly};
    RetentionPolicy.Builder b = RetentionPolicy.builder();
    try {
      b.zone(ZoneId.of(timeZone));
    } catch (java.time.DateTimeException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--time-zone " + timeZone + ": " + e.getMessage()
          + " (expected a zone such as UTC or Europe/Paris)");
    }
    try {
      for (RetentionRule r : RetentionRule.values()) {
        b.keep(r, counts[r.ordinal()]);
      }
      return b.build();
    } catch (RetentionPolicyException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.rule().isPresent()
          ? flag(e.rule().get()) + ": " + e.value() + " (expected a count of " + e.minimum() + " or more)"
          : "a retention policy needs at least one keep rule with a count above 0 ("
              + Arrays.stream(RetentionRule.values()).map(PruneCommand::flag).collect(Collectors.joining(", "))
              + "): without one it would remove every backup");
    }
  }

  /** The option that sets {@code rule}'s count: {@link RetentionRule#option()} spelled as a flag. */
  static String flag(RetentionRule rule) {
    return "--" + rule.option();
  }

  private static Map<String, Object> policyDoc(RetentionPolicy policy) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (RetentionRule r : RetentionRule.values()) {
      m.put(r.option(), policy.count(r));
    }
    m.put("timeZone", policy.zone().getId());
    return m;
  }

  /** The domain's fields of the JSON document: each archive with its fate and why. */
  private static void describe(Map<String, Object> doc, Pruner.Result result) {
    PrunePlan plan = result.plan();
    java.util.Set<StoredBackup> removed = new java.util.HashSet<>(result.removed());
    List<Map<String, Object>> archives = new ArrayList<>();
    for (PrunePlan.Entry e : plan.entries()) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("checkpoint", e.backup().checkpoint());
      a.put("archive", e.backup().path().toString());
      a.put("created", Instant.ofEpochSecond(e.backup().manifest().created()).toString());
      a.put("bytes", e.backup().size());
      a.put("action", e.kept() ? "keep" : "remove");
      a.put("removed", removed.contains(e.backup()));
      a.put("reason", e.reason());
      a.put("rules", e.rules());
      List<Map<String, Object>> needs = new ArrayList<>();
      for (PrunePlan.Need n : e.neededBy()) {
        needs.add(Map.of("checkpoint", n.checkpoint(), "disks", n.disks()));
      }
      a.put("neededBy", needs);
      a.put("neededByCount", e.neededByCount());
      a.put("damage", e.damage().orElse(null));
      archives.add(a);
    }
    doc.put("archives", archives);
    doc.put("kept", plan.kept().size());
    doc.put("removed", result.removed().size());
    doc.put("bytesFreed", result.removed().stream().mapToLong(StoredBackup::size).sum());
    doc.put("unreadable", FindingJson.of(plan.unreadable()));
    doc.put("leftoversRemoved", result.leftoversRemoved().stream().map(Path::toString).toList());
  }

  /** The plan as text: one line per archive, oldest first, with its fate and why. */
  private void printPlan(PrunePlan plan) {
    var out = spec.commandLine().getOut();
    out.println("domain " + Printable.escape(plan.domain()) + ": " + plan.policy() + (dryRun ? " (dry run)" : ""));
    String line = "  %-6s %-" + Printable.width(20, plan.entries().stream().map(e -> e.backup().checkpoint()))
        + "s %s %10s  %s%n";
    for (PrunePlan.Entry e : plan.entries()) {
      out.printf(line, e.kept() ? "keep" : "remove", Printable.escape(e.backup().checkpoint()),
          Instant.ofEpochSecond(e.backup().manifest().created()), Units.bytes(e.backup().size()),
          Printable.escape(e.reason()));
    }
    for (Finding f : plan.unreadable()) {
      out.println("  keep   UNREADABLE " + Printable.escape(f.toString()));
    }
    out.flush();
  }
}
