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
import org.tidemark.store.Publish;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tidemark list}: the backups in a repository, read from the archives themselves. */
@Command(name = "list", mixinStandardHelpOptions = true,
    description = {"List the backups of a repository: per point and disk, the archives a restore reads (which may differ",
        "per disk after a fallback), the sizes stored and restored, fallback reasons; unreadable archives, chains that",
        "cannot be restored and leftover temporary files are flagged.",
        "Exits 4 when an archive cannot be read or a backup's chain cannot be restored (each is listed); leftovers alone",
        "do not change the exit code (a backup running now has one; the next backup removes those of killed runs)."})
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
    List<List<Finding>> unreadable = new ArrayList<>(); // per domain, for the text listing
    boolean broken = false;
    for (String d : domains) {
      org.tidemark.archive.Chains chains = repository.chains(d);
      Repository.Scan scan = chains.scan();
      Map<String, Object> dom = new LinkedHashMap<>();
      dom.put("domain", d);
      List<Map<String, Object>> backups = new ArrayList<>();
      DiskChains diskChains = new DiskChains(scan);
      for (StoredBackup b : scan.backups()) {
        backups.add(describe(b, diskChains));
      }
      dom.put("backups", backups);
      dom.put("unreadable", FindingJson.of(scan.unreadable()));
      unreadable.add(scan.unreadable());
      // a point whose chain cannot be restored (a parent missing, unreadable or without a full copy)
      List<String> brokenChains = new ArrayList<>();
      for (StoredBackup b : scan.backups()) {
        chains.problem(java.util.Optional.of(b.checkpoint()))
            .ifPresent(e -> brokenChains.add(b.checkpoint() + ": " + Finding.of(e).problem()));
      }
      dom.put("brokenChains", brokenChains);
      dom.put("leftovers", leftovers(repository.domainDir(d)).stream().map(Path::toString).toList());
      dom.put("storedBytes", scan.backups().stream().mapToLong(StoredBackup::size).sum());
      broken |= !scan.unreadable().isEmpty() || !brokenChains.isEmpty();
      out.add(dom);
    }
    if (output.text()) {
      printText(out, unreadable);
    }
    if (output.document()) {
      output.printResult(spec.commandLine(), "list", Map.of("domains", out), broken ? ExitCodes.CORRUPT_ARCHIVE : ExitCodes.OK);
    }
    return broken ? ExitCodes.CORRUPT_ARCHIVE : ExitCodes.OK;
  }

  /**
   * The domains a command covers: all of the repository's, or the one named, which must have backups
   * there (a mistyped name is an error, not "all sound").
   *
   * @throws org.tidemark.archive.UnknownPointException naming the domains there are, for an unknown one
   */
  static List<String> domains(Repository repository, String domain) throws java.io.IOException {
    List<String> all = repository.domains();
    if (domain == null) {
      return all;
    }
    if (!all.contains(domain)) {
      throw org.tidemark.archive.UnknownPointException.domain(repository.root(), domain, all);
    }
    return List.of(domain);
  }

  /**
   * The temporary files in a domain's folder ({@code .NAME.tmp-RANDOM}): a writer's pending archive
   * while it runs, a leftover once it was killed (the next backup, under the lock, removes those).
   */
  static List<Path> leftovers(Path domainDir) throws java.io.IOException {
    if (!java.nio.file.Files.isDirectory(domainDir)) {
      return List.of();
    }
    try (java.util.stream.Stream<Path> s = java.nio.file.Files.list(domainDir)) {
      return s.filter(p -> {
        String n = p.getFileName().toString();
        return n.startsWith(Publish.TEMP_PREFIX) && n.contains(Publish.TEMP_INFIX);
      }).sorted().toList();
    }
  }

  static Map<String, Object> describe(StoredBackup b, DiskChains chains) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("checkpoint", b.checkpoint());
    m.put("archive", b.path().toString());
    m.put("created", Instant.ofEpochSecond(b.manifest().created()).toString());
    m.put("kind", b.manifest().parent().isPresent() ? "incremental" : "full");
    m.put("parent", b.manifest().parent().map(p -> p.checkpoint()).orElse(null));
    m.put("parentArchive", b.manifest().parent().map(p -> p.archive()).orElse(null));
    m.put("bytes", b.size());
    List<Map<String, Object>> disks = new ArrayList<>();
    for (DiskManifest d : b.manifest().disks()) {
      Map<String, Object> dm = new LinkedHashMap<>();
      dm.put("disk", d.name());
      dm.put("kind", d.kind().code());
      dm.put("decision", d.decision().code());
      dm.put("reason", d.reason());
      dm.put("fallback", d.decision().isFallback());
      dm.put("virtualSize", d.virtualSize());
      dm.put("dataBytes", d.dataBytes());
      DiskChains.Chain c = chains.of(b, d.name());
      dm.put("restoredBytes", c.restoredBytes().orElse(null));
      dm.put("chain", c.archives());
      dm.put("problem", c.problem().orElse(null));
      disks.add(dm);
    }
    m.put("disks", disks);
    return m;
  }

  /** What the size columns mean, printed under the listing. */
  static final String SIZES_LEGEND = "sizes: FILE = the archive file on disk (compressed); HELD = guest data the archive"
      + " holds for the disk, before compression; RESTORES = guest data a restore of the point writes for the disk"
      + " (the rest reads as zeros; a raw restore takes at most this on disk); VIRTUAL = the disk's size as the guest sees it";

  /** Archive names a NEEDS column shows in full; a longer chain shows its ends. */
  private static final int CHAIN_SHOWN = 6;

  /** The text listing; every string from an archive is printed through {@link Printable#escape}. */
  @SuppressWarnings("unchecked")
  private void printText(List<Map<String, Object>> domains, List<List<Finding>> unreadable) {
    var out = spec.commandLine().getOut();
    for (int i = 0; i < domains.size(); i++) {
      Map<String, Object> d = domains.get(i);
      List<Map<String, Object>> backups = (List<Map<String, Object>>) d.get("backups");
      if (backups.isEmpty()) {
        out.println("domain " + Printable.escape(d.get("domain")) + ": no backups" + (unreadable.get(i).isEmpty()
            ? " (its folder holds no archive)" : ", " + unreadable.get(i).size() + " unreadable archive(s)"));
      } else {
        out.println("domain " + Printable.escape(d.get("domain")) + ": " + backups.size() + " point(s), "
            + Units.bytes((Long) d.get("storedBytes")) + " in archive files");
      }
      // the name columns as wide as their longest name, so that the columns after them line up
      int pointWidth = Printable.width(20, backups.stream().map(b -> b.get("checkpoint")));
      int diskWidth = Printable.width(8, backups.stream()
          .flatMap(b -> ((List<Map<String, Object>>) b.get("disks")).stream()).map(disk -> disk.get("disk")));
      String pointLine = "  %-" + pointWidth + "s %-20s %-11s %10s  %s%s%n";
      String diskLine = "      %-" + diskWidth + "s %-11s %10s %10s %10s  %s%s%n";
      if (!backups.isEmpty()) {
        out.printf(pointLine, "POINT", "CREATED", "KIND", "FILE", "ARCHIVE, PARENT POINT", "");
        out.printf(diskLine, "DISK", "KIND", "HELD", "RESTORES", "VIRTUAL", "NEEDS (archives a restore reads, newest first)",
            "");
      }
      for (Map<String, Object> b : backups) {
        out.printf(pointLine, Printable.escape(b.get("checkpoint")), b.get("created"),
            b.get("kind"), Units.bytes((Long) b.get("bytes")), Printable.escape(Path.of((String) b.get("archive")).getFileName()),
            b.get("parent") == null ? "" : ", parent " + Printable.escape(b.get("parent")));
        for (Map<String, Object> disk : (List<Map<String, Object>>) b.get("disks")) {
          Long restored = (Long) disk.get("restoredBytes");
          out.printf(diskLine, Printable.escape(disk.get("disk")),
              Printable.escape(disk.get("kind")), Units.bytes((Long) disk.get("dataBytes")),
              restored == null ? "-" : Units.bytes(restored), Units.bytes((Long) disk.get("virtualSize")),
              chainText((List<String>) disk.get("chain"), (String) disk.get("problem")),
              (Boolean) disk.get("fallback") ? Printable.escape("; fell back to full: " + disk.get("reason")) : "");
        }
      }
      for (Finding u : unreadable.get(i)) {
        out.println("  UNREADABLE " + Printable.escape(u));
      }
      for (String c : (List<String>) d.get("brokenChains")) {
        out.println("  CANNOT RESTORE " + Printable.escape(c));
      }
      for (String l : (List<String>) d.get("leftovers")) {
        out.println("  LEFTOVER " + Printable.escape(l) + " (a temporary file: a backup running now, or left by a killed"
            + " run; the next backup removes it)");
      }
    }
    if (domains.stream().anyMatch(d -> !((List<?>) d.get("backups")).isEmpty())) {
      out.println(SIZES_LEGEND);
    }
    out.flush();
  }

  /** The NEEDS column: the archives, the middle of a long chain elided; BROKEN and why when it does not resolve. */
  private static String chainText(List<String> chain, String problem) {
    if (problem != null) {
      return Printable.escape("BROKEN: " + problem);
    }
    List<String> shown = chain;
    if (chain.size() > CHAIN_SHOWN) {
      shown = new ArrayList<>(chain.subList(0, CHAIN_SHOWN - 2));
      shown.add("... " + (chain.size() - CHAIN_SHOWN + 1) + " more ...");
      shown.add(chain.get(chain.size() - 1));
    }
    return Printable.escape(String.join(" ", shown));
  }
}
