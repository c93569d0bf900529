package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.tidemark.internal.Publish;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainGrammar;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code tidemark} command. */
@Command(
    name = "tidemark",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Incremental backup of QEMU/libvirt virtual-machine disks from checkpoint bitmaps.",
    subcommands = {
      BackupCommand.class,
      RestoreCommand.class,
      VerifyCommand.class,
      ListCommand.class,
      CheckpointCommand.class,
      ImageCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = "--debug",
      scope = CommandLine.ScopeType.INHERIT,
      description = "Show stack traces with errors.")
  boolean debug;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command.");
  }

  /** Runs the command with the given arguments and returns its exit code. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = commandLine();
    cli.setOut(out);
    cli.setErr(err);
    return cli.execute(args);
  }

  /** The configured command tree (exposed for in-process tests). */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.getCommandSpec().usageMessage().footer(ExitCodes.helpTable());
    cli.setExecutionExceptionHandler(new ErrorReporter());
    cli.setExitCodeExceptionMapper(ErrorReporter::exitCodeFor);
    return cli;
  }

  public static void main(String[] args) {
    // Ctrl-C or SIGTERM: remove the temporary files of a backup or restore in progress, so that
    // nothing half-written is left behind (their names never look finished either way)
    Runtime.getRuntime().addShutdownHook(new Thread(Publish::discardPending, "tidemark-cleanup"));
    if (args.length > 0 && (args[0].equals("backup") || args[0].equals("checkpoint"))) {
      preloadDomainGrammar();
    }
    System.exit(commandLine().execute(args));
  }

  /**
   * Compiles libvirt's domain grammar on a background thread while the command line is parsed and
   * the command starts: commands that read checkpoint XML need it first thing. A failure here is
   * left for the command to meet and report.
   */
  private static void preloadDomainGrammar() {
    Thread t = new Thread(() -> {
      try {
        DomainGrammar.host().preload();
      } catch (CheckpointXmlException | RuntimeException e) {
        // reported by the command that needs the grammar
      }
    }, "tidemark-grammar");
    t.setDaemon(true);
    t.start();
  }

  /** Reads the version Maven filtered into {@code version.properties}. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"tidemark " + version(), "Java " + Runtime.version()};
    }

    static String version() {
      try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
        Properties p = new Properties();
        if (in != null) {
          p.load(in);
        }
        return p.getProperty("version", "unknown");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
