package org.tidemark.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tidemark.archive.DiskManifest;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tidemark list}: the backups in a repository, read from the archives themselves. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = {"List the backups of a repository: chain, kinds, sizes, fallback reasons.",
        "Exits 4 when an archive cannot be read or a backup's chain cannot be restored (each is listed)."})
final class ListCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @Option(names = "--domain", paramLabel = "NAME", description = "Only this domain.")
  String domain;

  @Mixin OutputOptions output;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    Repository repository = Repository.at(repo);
    List<String> domains = ListCommand.domains(repository, domain);
    List<Map<String, Object>> out = new ArrayList<>();
    boolean broken = false;
    for (String d : domains) {
      org.tidemark.archive.Chains chains = repository.chains(d);
      Repository.Scan scan = chains.scan();
      Map<String, Object> dom = new LinkedHashMap<>();
      dom.put("domain", d);
      List<Map<String, Object>> backups = new ArrayList<>();
      for (StoredBackup b : scan.backups()) {
        backups.add(describe(b));
      }
      dom.put("backups", backups);
      dom.put("unreadable", scan.unreadable().stream().map(Finding::toString).toList());
      // a point whose chain cannot be restored (a parent missing, unreadable or without a full copy)
      List<String> brokenChains = new ArrayList<>();
      for (StoredBackup b : scan.backups()) {
        chains.problem(java.util.Optional.of(b.checkpoint()))
            .ifPresent(e -> brokenChains.add(b.checkpoint() + ": " + Finding.of(e).problem()));
      }
      dom.put("brokenChains", brokenChains);
      broken |= !scan.unreadable().isEmpty() || !brokenChains.isEmpty();
      out.add(dom);
    }
    if (output.json) {
      output.printResult(spec.commandLine().getOut(), "list", Map.of("domains", out),
          broken ? ExitCodes.CORRUPT_ARCHIVE : ExitCodes.OK);
    } else if (!output.quiet) {
      printText(out);
    }
    return broken ? ExitCodes.CORRUPT_ARCHIVE : ExitCodes.OK;
  }

  /**
   * The domains a command covers: all of the repository's, or the one named, which must have backups
   * there (a mistyped name is an error, not "all sound").
   *
   * @throws org.tidemark.archive.ArchiveException naming the domains there are, for an unknown one
   */
  static List<String> domains(Repository repository, String domain) throws java.io.IOException {
    List<String> all = repository.domains();
    if (domain == null) {
      return all;
    }
    if (!all.contains(domain)) {
      throw new org.tidemark.archive.ArchiveException(repository.root(), "no backups of domain '" + domain
          + "' in this repository (domains: " + all + ")");
    }
    return List.of(domain);
  }

  static Map<String, Object> describe(StoredBackup b) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("checkpoint", b.checkpoint());
    m.put("archive", b.path().toString());
    m.put("created", Instant.ofEpochSecond(b.manifest().created()).toString());
    m.put("kind", b.manifest().parentRef().isPresent() ? "incremental" : "full");
    m.put("parent", b.manifest().parentRef().map(p -> p.checkpoint()).orElse(null));
    m.put("bytes", b.size());
    List<Map<String, Object>> disks = new ArrayList<>();
    for (DiskManifest d : b.manifest().disks()) {
      Map<String, Object> dm = new LinkedHashMap<>();
      dm.put("disk", d.name());
      dm.put("kind", d.kind());
      dm.put("decision", d.decision());
      dm.put("reason", d.reason());
      dm.put("virtualSize", d.virtualSize());
      dm.put("dataBytes", d.dataBytes());
      disks.add(dm);
    }
    m.put("disks", disks);
    return m;
  }

  /** The text listing; every string from an archive is printed through {@link Printable#escape}. */
  @SuppressWarnings("unchecked")
  private void printText(List<Map<String, Object>> domains) {
    var out = spec.commandLine().getOut();
    for (Map<String, Object> d : domains) {
      out.println("domain " + Printable.escape(d.get("domain")));
      for (Map<String, Object> b : (List<Map<String, Object>>) d.get("backups")) {
        out.printf("  %-20s %-11s %s  parent %-12s %10s%n", Printable.escape(b.get("checkpoint")), b.get("kind"),
            b.get("created"), b.get("parent") == null ? "-" : Printable.escape(b.get("parent")), Units.bytes((Long) b.get("bytes")));
        for (Map<String, Object> disk : (List<Map<String, Object>>) b.get("disks")) {
          out.printf("      %-6s %-11s %10s  %s%n", Printable.escape(disk.get("disk")), Printable.escape(disk.get("kind")),
              Units.bytes((Long) disk.get("dataBytes")), Printable.escape(disk.get("reason")));
        }
      }
      for (String u : (List<String>) d.get("unreadable")) {
        out.println("  UNREADABLE " + Printable.escape(u));
      }
      for (String c : (List<String>) d.get("brokenChains")) {
        out.println("  CANNOT RESTORE " + Printable.escape(c));
      }
    }
    out.flush();
  }
}
