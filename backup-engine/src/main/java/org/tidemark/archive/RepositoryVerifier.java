package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;

/**
 * Verifies a repository, a domain of it, or the chain a restore of one checkpoint needs: every
 * archive that cannot be read, every chain that does not resolve, every broken link between an
 * archive and its parent (each reported once), and each archive checked completely by {@link
 * ArchiveVerifier}. Stateless and thread-safe.
 */
public final class RepositoryVerifier {
  private RepositoryVerifier() {}

  /**
   * What a verify found.
   *
   * @param verified the archives checked completely, in order
   * @param findings every problem found; empty when all is sound
   */
  public record Report(List<Path> verified, List<Finding> findings) {
    /** Freezes the lists. */
    public Report {
      verified = List.copyOf(verified);
      findings = List.copyOf(findings);
    }

    /** Whether no problem was found. */
    public boolean sound() {
      return findings.isEmpty();
    }
  }

  /**
   * Verifies the backups of {@code domain} (every domain when empty); with {@code checkpoint},
   * only the chain a restore of it needs. {@code progress} is started with the guest bytes of
   * every archive to check, told of each archive ({@link Progress#item}) and each chunk, and
   * finished; {@code cancellation} is checked between chunks.
   *
   * @throws UnknownPointException when the repository holds no backup of {@code domain}
   * @throws IllegalArgumentException when a checkpoint is given without a domain
   * @throws org.tidemark.engine.CancelledException when cancelled
   * @throws IOException when the repository cannot be listed
   */
  public static Report verify(Repository repository, Optional<String> domain, Optional<String> checkpoint,
      EngineOptions options, Progress progress, Cancellation cancellation) throws IOException {
    if (checkpoint.isPresent() && domain.isEmpty()) {
      throw new IllegalArgumentException("a checkpoint (" + checkpoint.get() + ") needs its domain");
    }
    Set<Finding> chainProblems = new LinkedHashSet<>(); // backups of one chain share its problem
    List<DomainCheck> checks = new ArrayList<>();
    for (String d : domains(repository, domain)) {
      List<Finding> findings = new ArrayList<>();
      // one reading of the domain's folder resolves every chain; then each archive is verified alone
      Chains chains = repository.chains(d);
      Repository.Scan scan = chains.scan();
      findings.addAll(scan.unreadable());
      List<StoredBackup> backups;
      if (checkpoint.isPresent()) {
        Optional<ArchiveException> problem = chains.problem(checkpoint);
        problem.ifPresent(e -> add(findings, chainProblems, Finding.of(e)));
        backups = problem.isPresent() ? List.of() : chains.walk(checkpoint);
      } else {
        backups = scan.backups();
        for (StoredBackup b : backups) {
          chains.problem(Optional.of(b.checkpoint())).ifPresent(e -> add(findings, chainProblems, Finding.of(e)));
        }
      }
      // each link between a backup and its parent, checked once: a chain holds when its links do
      Set<Path> checked = new HashSet<>();
      backups.forEach(b -> checked.add(b.path()));
      chains.linkFindings().stream().filter(f -> checked.contains(f.archive()))
          .forEach(f -> add(findings, chainProblems, f));
      checks.add(new DomainCheck(findings, backups));
    }
    List<StoredBackup> toVerify = checks.stream().flatMap(c -> c.backups().stream()).toList();
    List<Finding> findings = new ArrayList<>();
    List<Path> verified = new ArrayList<>();
    progress.start("verify " + domain.map(d -> d + checkpoint.map(c -> "/" + c).orElse("")).orElse(repository.root()
        .toString()), toVerify.stream().mapToLong(b -> b.manifest().disks().stream().mapToLong(DiskManifest::dataBytes)
        .sum()).sum());
    try {
      for (DomainCheck c : checks) {
        findings.addAll(c.findings());
        for (StoredBackup b : c.backups()) {
          findings.addAll(ArchiveVerifier.verify(b.path(), options, progress, cancellation));
          verified.add(b.path());
        }
      }
    } finally {
      progress.finish();
    }
    return new Report(verified, findings);
  }

  /**
   * The domains to verify: {@code domain}, which the repository must hold, or every one.
   *
   * @throws UnknownPointException when the repository holds no backup of {@code domain}
   */
  public static List<String> domains(Repository repository, Optional<String> domain) throws IOException {
    List<String> all = repository.domains();
    if (domain.isEmpty()) {
      return all;
    }
    if (!all.contains(domain.get())) {
      throw UnknownPointException.domain(repository.root(), domain.get(), all);
    }
    return List.of(domain.get());
  }

  /** A domain's problems found without reading chunks, and the backups to verify completely. */
  private record DomainCheck(List<Finding> findings, List<StoredBackup> backups) {}

  private static void add(List<Finding> findings, Set<Finding> seen, Finding f) {
    if (seen.add(f)) {
      findings.add(f);
    }
  }
}
