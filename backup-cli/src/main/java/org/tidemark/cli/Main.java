package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Properties;
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
  private static final List<String> COMMANDS =
      List.of("backup", "restore", "verify", "list", "consolidate", "prune", "checkpoint", "image", "help");

  /** A new instance of the command named {@code name}, one of {@link #COMMANDS}. */
  private static Object newCommand(String name) {
    return switch (name) {
      case "backup" -> new BackupCommand();
      case "restore" -> new RestoreCommand();
      case "verify" -> new VerifyCommand();
      case "list" -> new ListCommand();
      case "consolidate" -> new ConsolidateCommand();
      case "prune" -> new PruneCommand();
      case "checkpoint" -> new CheckpointCommand();
      case "image" -> new ImageCommand();
      case "help" -> new CommandLine.HelpCommand();
      default -> throw new IllegalArgumentException("no command " + name);
    };
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
    String only = args.length > 0 && COMMANDS.contains(args[0]) && !args[0].equals("help") ? args[0] : null;
    CommandLine cli = new CommandLine(new Main());
    for (String name : COMMANDS) {
      if (only == null || only.equals(name)) {
        cli.addSubcommand(name, newCommand(name));
      }
    }
    cli.getCommandSpec().usageMessage().footer(ExitCodes.helpTable());
    cli.setExecutionExceptionHandler(new ErrorReporter());
    cli.setExitCodeExceptionMapper(ErrorReporter::exitCodeFor);
    return cli;
  }

  public static void main(String[] args) {
    if (isVersionRequest(args)) {
      // picocli's model of the command tree would cost more than the JVM's own start (LauncherScriptIT,
      // VersionFastPathTest: the same lines as picocli's --version)
      System.out.print(versionText());
      System.out.flush();
      System.exit(ExitCodes.OK);
    }
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

  /** Whether {@code args} is {@code --version} or {@code -V} alone: answered without picocli. */
  static boolean isVersionRequest(String[] args) {
    return args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"));
  }

  /** What {@code tidemark --version} prints: the version provider's lines, each ended as println ends it. */
  static String versionText() {
    StringBuilder text = new StringBuilder();
    for (String line : new Version().getVersion()) {
      text.append(line).append(System.lineSeparator());
    }
    return text.toString();
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
