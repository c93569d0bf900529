package org.tidemark.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.archive.UnknownPointException;
import org.tidemark.consolidate.ConsolidateRequest;
import org.tidemark.consolidate.ConsolidateResult;
import org.tidemark.consolidate.Consolidator;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tidemark consolidate}: rewrites a point's archive as a full backup built from the
 * repository's archives alone (a synthetic full), in place, so that the older archives it needed
 * can be pruned while the later incrementals stay restorable.
 */
@Command(name = "consolidate", mixinStandardHelpOptions = true,
    description = {"Rewrite a backup as a full one (a synthetic full) from the repository's archives alone: no disk"
        + " image, no VM. The archive keeps its name, so later incrementals stay linked to it; the older archives"
        + " it needed are no longer needed by it (tidemark prune removes what no kept point needs).",
        "The new archive is checked before it replaces the old one atomically (its data as it is made from the"
        + " chain's checked chunks, its structure from the file; --verify reads it all back too); a crash leaves"
        + " the old archive or the new one, never a mix. Takes the domain's lock (exit 8 when another run holds"
        + " it)."})
final class ConsolidateCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Which which;

  /** One domain, or all of them: never all by default. */
  static final class Which {
    @Option(names = "--domain", paramLabel = "NAME", description = "The domain.")
    String domain;

    @Option(names = "--all", description = {"Consolidate the newest point of every domain of the repository, one"
        + " after the other, each under its own lock. A domain that fails (locked, damaged, the file system full) does"
        + " not stop the others; the exit code is the worst of them, and the JSON document has one entry per domain."})
    boolean all;
  }

  @Option(names = "--checkpoint", paramLabel = "NAME",
      description = "The point to consolidate (default: the domain's newest backup); with --domain only.")
  String checkpoint;

  @Option(names = "--verify", description = {"Before the swap, read the whole new archive back from the device and"
      + " check every chunk, as tidemark verify does (about as long again as writing it). Without it, the data is"
      + " checked as it is made (every byte comes from a chunk of the chain checked on read) and the new archive's"
      + " structure (seal, manifest, index, tar headers) from the file."})
  boolean verify;

  @Mixin WriterOptions writer;

  @Mixin OutputOptions output;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    Codec codec = writer.codec(spec.commandLine());
    Duration lockWait = writer.lockWait(spec.commandLine());
    if (which.all && checkpoint != null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--checkpoint names a point of one domain: give"
          + " --domain with it, not --all");
    }
    Repository repository = Repository.at(repo);
    // an unknown domain is an error naming the ones there are
    List<String> domains = ListCommand.domains(repository, which.all ? null : which.domain);
    Consolidator consolidator = new Consolidator(repository, lockWait);
    if (!which.all) {
      ConsolidateResult r = consolidate(consolidator, which.domain, codec);
      if (output.document()) {
        output.printResult(spec.commandLine(), "consolidate", describe(which.domain, r, verify), ExitCodes.OK);
      }
      return ExitCodes.OK;
    }
    List<Map<String, Object>> docs = new ArrayList<>();
    int code = ExitCodes.OK;
    for (String d : domains) {
      Map<String, Object> doc;
      try {
        ConsolidateResult r = consolidate(consolidator, d, codec);
        doc = describe(d, r, verify);
        doc.put("status", r.consolidated() ? "consolidated" : "full-already");
      } catch (UnknownPointException e) {
        doc = new LinkedHashMap<>(); // a domain folder without a backup: nothing to consolidate
        doc.put("domain", d);
        doc.put("status", "no-backups");
        if (output.text()) {
          spec.commandLine().getOut().println(Printable.escape(d) + ": no backups: nothing to do");
        }
      } catch (java.io.IOException e) {
        // locked, damaged, or the file system full: the other domains are still consolidated, the run says which
        // one was not (its point's archive is as it was)
        doc = new LinkedHashMap<>();
        doc.put("domain", d);
        ErrorReporter.domainFailed(e, doc, spec.commandLine().getErr());
        code = ExitCodes.worse(code, ErrorReporter.exitCodeFor(e));
      }
      docs.add(doc);
    }
    if (output.document()) {
      output.printResult(spec.commandLine(), "consolidate", Map.of("domains", docs), code);
    }
    return code;
  }

  /** Consolidates the newest point of {@code domain} (or the one {@code --checkpoint} names) and says so in text. */
  private ConsolidateResult consolidate(Consolidator consolidator, String domain, Codec codec)
      throws java.io.IOException {
    ConsolidateResult r = consolidator.run(new ConsolidateRequest(domain, Optional.ofNullable(checkpoint), codec,
        ArchiveWriter.DEFAULT_CHUNK, Main.Version.version(), verify), TerminalProgress.forOptions(output));
    for (Path leftover : r.leftoversRemoved()) {
      if (!output.json) {
        spec.commandLine().getErr().println("tidemark: removed " + Printable.escape(leftover.toString())
            + ", left by a run that did not finish");
      }
    }
    if (output.text()) {
      String point = Printable.escape(domain + "/" + r.checkpoint());
      spec.commandLine().getOut().println(r.consolidated()
          ? "consolidated " + point + ": " + Printable.escape(r.archive().getFileName().toString())
              + " is now a full backup (" + Units.bytes(r.sizeAfter()) + ", was " + Units.bytes(r.sizeBefore())
              + "), built from " + r.chain().size() + " archives in " + r.duration().toMillis() / 1000.0 + " s; it"
              + " no longer needs " + Printable.escape(names(r.chain().subList(1, r.chain().size())).toString())
          : point + " is a full backup already: nothing to do");
    }
    spec.commandLine().getOut().flush();
    spec.commandLine().getErr().flush();
    return r;
  }

  private static List<String> names(List<Path> paths) {
    return paths.stream().map(p -> p.getFileName().toString()).toList();
  }

  /** The JSON fields of a consolidation. */
  static Map<String, Object> describe(String domain, ConsolidateResult r, boolean readBack) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("domain", domain);
    doc.put("checkpoint", r.checkpoint());
    doc.put("archive", r.archive().toString());
    doc.put("consolidated", r.consolidated());
    doc.put("builtFrom", names(r.chain()));
    doc.put("bytesBefore", r.sizeBefore());
    doc.put("bytesAfter", r.sizeAfter());
    doc.put("readBack", r.consolidated() && readBack);
    List<Map<String, Object>> disks = new ArrayList<>();
    for (ConsolidateResult.DiskResult d : r.disks()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", d.disk());
      m.put("virtualSize", d.virtualSize());
      m.put("dataBytes", d.dataBytes());
      m.put("chunks", d.chunks());
      m.put("chunksCopied", d.chunksCopied());
      m.put("storedBytes", d.storedBytes());
      disks.add(m);
    }
    doc.put("disks", disks);
    doc.put("leftoversRemoved", r.leftoversRemoved().stream().map(Path::toString).toList());
    doc.put("durationMs", r.duration().toMillis());
    return doc;
  }
}
