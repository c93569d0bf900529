package org.tidemark.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Chains;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.StoredBackup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tidemark verify}: reads every chunk and checks checksums, manifests and chains. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Verify backups: every chunk's checksum, each manifest's consistency, each chain's completeness.",
        "Exits 4 when anything is wrong, listing each problem with its archive, disk and offset."})
final class VerifyCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @Option(names = "--domain", paramLabel = "NAME", description = "Only this domain (default: all).")
  String domain;

  @Option(names = "--checkpoint", paramLabel = "NAME",
      description = "Only the chain a restore of this checkpoint needs (needs --domain).")
  String checkpoint;

  @Mixin OutputOptions output;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    if (checkpoint != null && domain == null) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--checkpoint needs --domain");
    }
    Repository repository = Repository.at(repo);
    List<String> domains = ListCommand.domains(repository, domain);
    List<Finding> findings = new ArrayList<>();
    List<String> verified = new ArrayList<>();
    Set<Finding> seen = new HashSet<>(); // the chain problems already reported
    for (String d : domains) {
      // one reading of the domain's folder resolves every chain; then each archive is verified alone
      Chains chains = repository.chains(d);
      Repository.Scan scan = chains.scan();
      findings.addAll(scan.unreadable());
      List<StoredBackup> backups;
      if (checkpoint != null) {
        Optional<ArchiveException> problem = chains.problem(Optional.of(checkpoint));
        problem.ifPresent(e -> add(findings, seen, Finding.of(e)));
        backups = problem.isPresent() ? List.of() : chains.walk(Optional.of(checkpoint));
      } else {
        backups = scan.backups();
        // every backup's chain must resolve
        for (StoredBackup b : backups) {
          chains.problem(Optional.of(b.checkpoint())).ifPresent(e -> add(findings, seen, Finding.of(e)));
        }
      }
      // each link between a backup and its parent, checked once: a chain holds when its links do
      Set<java.nio.file.Path> checked = new HashSet<>();
      backups.forEach(b -> checked.add(b.path()));
      chains.linkFindings().stream().filter(f -> checked.contains(f.archive())).forEach(f -> add(findings, seen, f));
      for (StoredBackup b : backups) {
        findings.addAll(ArchiveVerifier.verify(b.path()));
        verified.add(b.path().toString());
      }
    }
    if (!output.json) {
      findings.forEach(f -> spec.commandLine().getErr().println("tidemark: " + Printable.escape(f.toString())));
      if (!output.quiet) {
        spec.commandLine().getOut().println(findings.isEmpty()
            ? "verified " + verified.size() + " archive(s): all sound"
            : "verified " + verified.size() + " archive(s): " + findings.size() + " problem(s)");
      }
    }
    if (output.document()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("ok", findings.isEmpty());
      doc.put("archivesVerified", verified);
      List<Map<String, Object>> problems = new ArrayList<>();
      for (Finding f : findings) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("archive", f.archive().toString());
        p.put("disk", f.disk().orElse(null));
        p.put("offset", f.offset().isPresent() ? f.offset().getAsLong() : null);
        p.put("problem", f.problem());
        problems.add(p);
      }
      doc.put("problems", problems);
      output.printResult(spec.commandLine(), "verify", doc, findings.isEmpty() ? ExitCodes.OK : ExitCodes.CORRUPT_ARCHIVE);
    }
    spec.commandLine().getOut().flush();
    spec.commandLine().getErr().flush();
    return findings.isEmpty() ? ExitCodes.OK : ExitCodes.CORRUPT_ARCHIVE;
  }

  /** Adds a chain problem once: backups of one chain share its problem. */
  private static void add(List<Finding> findings, Set<Finding> seen, Finding f) {
    if (seen.add(f)) {
      findings.add(f);
    }
  }
}
