package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.tidemark.disk.ImageFiles;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.DomainDefinition;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainXml;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tidemark checkpoint ...}: read, validate and format libvirt checkpoint XML. */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    description = "Validate and format libvirt checkpoint XML (<domaincheckpoint>).",
    subcommands = {CheckpointCommand.Format.class, CheckpointCommand.Validate.class, CommandLine.HelpCommand.class})
final class CheckpointCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing a subcommand: see 'tidemark checkpoint --help'.");
  }

  /**
   * Reads a checkpoint file, or standard input for {@code -}: at most {@link CheckpointXml#MAX_BYTES}
   * bytes, never more. Only a regular file (or a link to one) is opened: a FIFO would block the
   * open until a writer comes, a device may never end; both are refused by their type, unopened.
   *
   * @throws FileSystemException when the file is not a regular file (exit code 5)
   * @throws CheckpointXmlException when it is larger than the limit (exit code 3)
   */
  static byte[] read(String file) throws IOException, CheckpointXmlException {
    if (file.equals("-")) {
      try (InputStream in = System.in) {
        return bounded(in, file);
      }
    }
    Path path;
    try {
      path = Path.of(file);
    } catch (InvalidPathException e) {
      throw new NoSuchFileException(file, null, "not a path (" + e.getReason() + ")");
    }
    Optional<String> kind = ImageFiles.notRegularFile(path);
    if (kind.isPresent()) {
      throw new FileSystemException(file, null, "not a regular file (" + kind.get() + "): give a file, or - for standard input");
    }
    long size = Files.size(path);
    if (size > CheckpointXml.MAX_BYTES) {
      throw new CheckpointXmlException(file, 0, 0,
          "file of " + size + " bytes is larger than the limit of " + CheckpointXml.MAX_BYTES);
    }
    try (InputStream in = Files.newInputStream(path)) {
      return bounded(in, file); // bounded still: the file may grow after its size was read
    }
  }

  private static byte[] bounded(InputStream in, String file) throws IOException, CheckpointXmlException {
    byte[] xml = in.readNBytes(CheckpointXml.MAX_BYTES + 1);
    if (xml.length > CheckpointXml.MAX_BYTES) {
      throw new CheckpointXmlException(file, 0, 0, "more than " + CheckpointXml.MAX_BYTES + " bytes: larger than the limit");
    }
    return xml;
  }

  /** Parses and validates one checkpoint file (REDEFINE mode). */
  static Checkpoint parse(String file, boolean allowMissingDomain) throws IOException, CheckpointXmlException {
    return CheckpointXml.parse(read(file), file,
        allowMissingDomain ? EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN) : Set.of());
  }

  @Command(name = "format", mixinStandardHelpOptions = true,
      description = {"Parse a checkpoint (always validated) and print it exactly as libvirt formats it.",
          "REDEFINE mode by default (a checkpoint as libvirt stores it); with --domain-xml, libvirt's CREATE",
          "mode: name defaults to the time, parent and creation time are ignored, disks are aligned with the",
          "domain given."})
  static final class Format implements Callable<Integer> {
    @Option(names = "--redefine", description = "Parse in libvirt's REDEFINE mode (the default).")
    boolean redefine;

    @Option(names = "--domain-xml", paramLabel = "FILE",
        description = "CREATE mode: align the checkpoint's disks with this domain definition (virsh dumpxml --inactive, the definition libvirt keeps in a checkpoint).")
    Path domainXml;

    @Option(names = "--allow-missing-domain", description = "Accept a checkpoint without <domain> (libvirt's NO_DOMAIN form).")
    boolean allowMissingDomain;

    @Option(names = "--no-domain", description = "Leave the <domain> out of the output.")
    boolean noDomain;

    @Option(names = "--secure", description = "Include security-sensitive domain data (graphics passwords), as libvirt's --security-info.")
    boolean secure;

    @Option(names = "--size", description = "Print each disk's size when known (parsing never gives one: libvirt measures it).")
    boolean size;

    @Parameters(paramLabel = "FILE|-", description = "The checkpoint XML file, or - for standard input.")
    String file;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Checkpoint c;
      if (domainXml != null) {
        if (redefine || allowMissingDomain) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              "--domain-xml selects CREATE mode; it cannot be combined with --redefine or --allow-missing-domain");
        }
        DomainDefinition domain = DomainXml.parse(read(domainXml.toString()), domainXml.toString());
        c = CheckpointXml.parseCreate(read(file), file, domain, java.time.Instant.now().getEpochSecond());
      } else {
        c = parse(file, allowMissingDomain);
      }
      EnumSet<CheckpointXml.FormatFlag> flags = EnumSet.noneOf(CheckpointXml.FormatFlag.class);
      if (noDomain) {
        flags.add(CheckpointXml.FormatFlag.NO_DOMAIN);
      }
      if (secure) {
        flags.add(CheckpointXml.FormatFlag.SECURE);
      }
      if (size) {
        flags.add(CheckpointXml.FormatFlag.SIZE);
      }
      spec.commandLine().getOut().print(CheckpointXml.format(c, flags));
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }

  @Command(name = "validate", mixinStandardHelpOptions = true,
      description = {"Check checkpoint files: each invalid one is reported as FILE:LINE:COL: message.",
          "Exits 3 when any file is invalid, 5 when any cannot be read (missing, not a regular file)."})
  static final class Validate implements Callable<Integer> {
    @Option(names = "--allow-missing-domain", description = "Accept checkpoints without <domain>.")
    boolean allowMissingDomain;

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Checkpoint XML files.")
    List<String> files;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      int bad = 0;
      int unreadable = 0;
      for (String f : files) {
        try {
          parse(f, allowMissingDomain);
          spec.commandLine().getOut().println(Printable.escape(f) + ": valid");
        } catch (CheckpointXmlException e) {
          spec.commandLine().getErr().println(Printable.escape(e.getMessage()));
          bad++;
        } catch (IOException e) { // reported like the others, and the next file checked
          spec.commandLine().getErr().println("tidemark: " + Printable.escape(ErrorReporter.messageFor(e)));
          unreadable++;
        }
      }
      spec.commandLine().getOut().flush();
      spec.commandLine().getErr().flush();
      return unreadable > 0 ? ExitCodes.IO_ERROR : bad > 0 ? ExitCodes.INVALID_INPUT : ExitCodes.OK;
    }
  }
}
