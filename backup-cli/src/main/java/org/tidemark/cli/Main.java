package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.tidemark.store.Publish;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainGrammar;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code tidemark} command. */
@Command(
    name = "tidemark",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Incremental backup of QEMU/libvirt virtual-machine disks from checkpoint bitmaps.")
public final class Main implements Runnable {
  /**
   * The commands, in the order the help lists them. They are added to the command tree by hand so
   * that a run builds only the command it runs: picocli's model of the whole tree costs about 0.2 s.
   */
  private static final Map<String, Supplier<Object>> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("backup", BackupCommand::new);
    COMMANDS.put("restore", RestoreCommand::new);
    COMMANDS.put("verify", VerifyCommand::new);
    COMMANDS.put("list", ListCommand::new);
    COMMANDS.put("consolidate", ConsolidateCommand::new);
    COMMANDS.put("prune", PruneCommand::new);
    COMMANDS.put("checkpoint", CheckpointCommand::new);
    COMMANDS.put("image", ImageCommand::new);
    COMMANDS.put("help", CommandLine.HelpCommand::new);
  }

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
    CommandLine cli = commandLine(args);
    cli.setOut(out);
    cli.setErr(err);
    return cli.execute(args);
  }

  /** The configured command tree (exposed for in-process tests). */
  public static CommandLine commandLine() {
    return commandLine(new String[0]);
  }

  /**
   * The command tree for running {@code args}: when the first argument names a command (other than
   * {@code help}), only that command is in it; otherwise all of them, for help and for picocli's
   * suggestions on a mistyped name.
   */
  static CommandLine commandLine(String[] args) {
    String only = args.length > 0 && COMMANDS.containsKey(args[0]) && !args[0].equals("help") ? args[0] : null;
    CommandLine cli = new CommandLine(new Main());
    for (Map.Entry<String, Supplier<Object>> c : COMMANDS.entrySet()) {
      if (only == null || only.equals(c.getKey())) {
        cli.addSubcommand(c.getKey(), c.getValue().get());
      }
    }
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
    System.exit(commandLine(args).execute(args));
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
