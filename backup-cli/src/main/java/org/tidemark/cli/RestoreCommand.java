package org.tidemark.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.tidemark.archive.Repository;
import org.tidemark.restore.ImageFormat;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code tidemark restore}: writes the disks of a backup point and the domain XML, which points at
 * the restored images; with {@code --define NEWNAME}, under a new name, UUID and MAC addresses, and
 * defined in libvirt. Without {@code --define}, libvirt is never touched.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
    description = {"Restore a point of a backup chain: every disk (or one) as a thin raw or qcow2 image, plus the domain XML.",
        "The domain XML points at the restored images; writable disks not restored are left out of it.",
        "Reads each needed chunk once and checks it; refuses corrupt archives; never overwrites without --force."})
final class RestoreCommand implements Callable<Integer> {
  @Option(names = "--repo", required = true, paramLabel = "DIR", description = "The backup repository.")
  Path repo;

  @Option(names = "--domain", required = true, paramLabel = "NAME", description = "The domain to restore.")
  String domain;

  @Option(names = "--checkpoint", paramLabel = "NAME", description = "The point to restore (default: the newest backup).")
  String checkpoint;

  @Option(names = "--disk", paramLabel = "NAME", description = "Restore only this disk (default: all).")
  String disk;

  @Option(names = "--to", required = true, paramLabel = "DIR",
      description = "Directory for the images (DISK.raw or DISK.qcow2) and DOMAIN.xml; created if missing.")
  Path to;

  @Option(names = "--format", paramLabel = "raw|qcow2",
      description = {"Image format of the restored disks (default: raw): raw, a sparse DISK.raw that any tool reads "
          + "(loop-mount, dd, qemu-img); or qcow2, a thin qcow2 v3 DISK.qcow2 written by Tidemark itself (QEMU not "
          + "needed), which a domain put back into service needs for libvirt checkpoints, and so for incremental backups."})
  String format;

  @Option(names = "--force", description = "Overwrite existing files (never a libvirt domain).")
  boolean force;

  @Option(names = "--define", paramLabel = "NEWNAME",
      description = {"Write the domain XML as NEWNAME.xml with a new name, UUID and MAC addresses, and define it in libvirt",
          "(not started). A name libvirt already has is refused before anything is written."})
  String define;

  @Option(names = "--connect", paramLabel = "URI",
      description = "With --define: the libvirt connection (default: qemu:///system).")
  String connect;

  @Mixin OutputOptions output;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** libvirt's connection when --define has no --connect, as for live backups. */
  static final String DEFAULT_URI = "qemu:///system";

  @Override
  public Integer call() throws Exception {
    output.configureLogging();
    ImageFormat imageFormat;
    try {
      imageFormat = format == null ? ImageFormat.RAW : ImageFormat.parse(format);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--format " + format + ": expected raw or qcow2");
    }
    if (connect != null && define == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--connect needs --define (without it, restore never uses libvirt)");
    }
    if (define != null) {
      try {
        org.tidemark.xml.DomainRewriter.checkName(define);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--define: " + e.getMessage());
      }
    }
    if (java.nio.file.Files.exists(to) && !java.nio.file.Files.isDirectory(to)) {
      throw new CliFailure(ExitCodes.USAGE, "--to " + to + ": is a file, not a folder; --to names the folder the disk images"
          + " and the domain XML are written to (created when missing): give a new or existing folder (--force replaces"
          + " files in it, never the folder itself)");
    }
    String uri = connect != null ? connect : DEFAULT_URI;
    RestoreResult r;
    try (LibvirtDefine libvirt = define == null ? null : LibvirtDefine.open(uri, define)) {
      RestoreRequest request = RestoreRequest.builder(domain).checkpoint(Optional.ofNullable(checkpoint))
          .disk(Optional.ofNullable(disk)).format(imageFormat).newName(Optional.ofNullable(define)).build();
      r = new RestoreRunner(Repository.at(repo), EngineSettings.options()).run(request, RestoreTarget.folder(to, force),
          TerminalProgress.forOptions(output));
      if (libvirt != null) {
        Path xml = r.domainXml().orElseThrow(); // the runner refuses a new name without a definition
        libvirt.define(java.nio.file.Files.readString(xml), xml.toString());
      }
    }
    if (output.text()) {
      printText(r);
      if (format == null) {
        qcow2SourcesNote(r);
      }
    }
    if (output.document()) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("domain", domain);
      doc.put("checkpoint", r.checkpoint());
      doc.put("format", imageFormat.extension());
      doc.put("chain", r.chain().stream().map(Path::toString).toList());
      List<Map<String, Object>> disks = new ArrayList<>();
      for (RestoreResult.DiskResult d : r.disks()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("disk", d.disk());
        m.put("image", d.image().toString());
        m.put("format", d.format().extension());
        m.put("virtualSize", d.virtualSize());
        m.put("bytesWritten", d.dataBytes());
        m.put("chunksRead", d.chunksRead());
        disks.add(m);
      }
      doc.put("disks", disks);
      doc.put("domainXml", r.domainXml().map(Path::toString).orElse(null));
      doc.put("disksLeftOutOfDomainXml", r.disksLeftOut());
      if (define != null) {
        doc.put("defined", define);
        doc.put("connect", uri);
      }
      doc.put("seconds", r.duration().toMillis() / 1000.0);
      output.printResult(spec.commandLine(), "restore", doc, ExitCodes.OK);
    }
    return ExitCodes.OK;
  }

  /**
   * After a restore to raw by default: a note when disks restored were qcow2 images at the source,
   * since a raw disk cannot carry the bitmaps libvirt's checkpoints (and so incremental backups of
   * the restored domain) need. Nothing when the source formats cannot be read.
   */
  private void qcow2SourcesNote(RestoreResult r) {
    List<String> qcow2 = new ArrayList<>();
    try (org.tidemark.archive.ArchiveReader head = org.tidemark.archive.ArchiveReader.open(r.chain().get(0))) {
      var checkpoint = org.tidemark.xml.CheckpointXml.parse(head.checkpointXml(), "checkpoint.xml",
          java.util.EnumSet.of(org.tidemark.xml.CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN),
          org.tidemark.xml.DomainGrammar.builtIn());
      for (RestoreResult.DiskResult d : r.disks()) {
        checkpoint.domain().flatMap(dom -> dom.disk(d.disk())).flatMap(org.tidemark.model.DomainDisk::driverType)
            .filter("qcow2"::equals).ifPresent(t -> qcow2.add(d.disk()));
      }
    } catch (java.io.IOException | org.tidemark.xml.CheckpointXmlException | RuntimeException e) {
      return; // the restore is done; the note is only advice
    }
    if (!qcow2.isEmpty()) {
      spec.commandLine().getErr().println(Printable.escape("tidemark: note: " + String.join(", ", qcow2) + " restored as raw"
          + " (the default) from qcow2 source images; a domain put back into service needs qcow2 disks for libvirt"
          + " checkpoints and incremental backups: restore with --format qcow2 for that"));
      spec.commandLine().getErr().flush();
    }
  }

  /** The text report of a restore. */
  private void printText(RestoreResult r) {
    String uri = connect != null ? connect : DEFAULT_URI;
    var out = spec.commandLine().getOut();
    out.println("restored " + Printable.escape(domain) + " at checkpoint " + Printable.escape(r.checkpoint()) + " from "
        + r.chain().size() + " archive(s)");
    for (RestoreResult.DiskResult d : r.disks()) {
      out.println("  " + Printable.escape(d.disk()) + " -> " + Printable.escape(d.image()) + " (" + d.format() + ", "
          + Units.bytes(d.virtualSize()) + ", " + Units.bytes(d.dataBytes()) + " of data)");
    }
    if (r.domainXml().isPresent()) {
      out.println("  domain XML -> " + Printable.escape(r.domainXml().get()) + " (its disks are the restored images)");
    } else {
      out.println("  no domain XML: checkpoint " + Printable.escape(r.checkpoint()) + " was saved without its domain");
    }
    if (!r.disksLeftOut().isEmpty()) {
      out.println("  left out of the domain XML, not restored: " + Printable.escape(String.join(", ", r.disksLeftOut())));
    }
    if (define != null) {
      out.println("  defined " + Printable.escape(define) + " in libvirt at " + Printable.escape(uri) + " (not started)");
    }
    out.flush();
  }
}
