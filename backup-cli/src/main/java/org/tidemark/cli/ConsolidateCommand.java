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
import org.tidemark.consolidate.ConsolidateRequest;
import org.tidemark.consolidate.ConsolidateResult;
import org.tidemark.consolidate.Consolidator;
import picocli.CommandLine;
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

  @Option(names = "--domain", required = true, paramLabel = "NAME", description = "The domain.")
  String domain;

  @Option(names = "--checkpoint", paramLabel = "NAME",
      description = "The point to consolidate (default: the domain's newest backup).")
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
    Repository repository = Repository.at(repo);
    ListCommand.domains(repository, domain); // an unknown domain is an error naming the ones there are
    ConsolidateResult r = new Consolidator(repository, lockWait).run(
        new ConsolidateRequest(domain, Optional.ofNullable(checkpoint), codec, ArchiveWriter.DEFAULT_CHUNK,
            Main.Version.version(), verify), TerminalProgress.forOptions(output));
    for (Path leftover : r.leftoversRemoved()) {
      if (!output.json) {
        spec.commandLine().getErr().println("tidemark: removed " + Printable.escape(leftover.toString())
            + ", left by a run that did not finish");
      }
    }
    if (output.document()) {
      output.printResult(spec.commandLine(), "consolidate", describe(domain, r, verify), ExitCodes.OK);
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
    return ExitCodes.OK;
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
