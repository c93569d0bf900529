package org.tidemark.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryVerifier;
import org.tidemark.engine.Cancellation;
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
    RepositoryVerifier.Report report = RepositoryVerifier.verify(Repository.at(repo), Optional.ofNullable(domain),
        Optional.ofNullable(checkpoint), EngineSettings.options(), TerminalProgress.forOptions(output),
        Cancellation.none());
    List<Finding> findings = report.findings();
    List<String> verified = report.verified().stream().map(Path::toString).toList();
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
      doc.put("problems", FindingJson.of(findings));
      output.printResult(spec.commandLine(), "verify", doc, findings.isEmpty() ? ExitCodes.OK : ExitCodes.CORRUPT_ARCHIVE);
    }
    spec.commandLine().getOut().flush();
    spec.commandLine().getErr().flush();
    return findings.isEmpty() ? ExitCodes.OK : ExitCodes.CORRUPT_ARCHIVE;
  }
}
