package org.tidemark.cli;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Output options every working command shares: JSON on stdout for monitoring, quiet for cron,
 * verbose logging for diagnosis. A progress bar is drawn only when stderr is a terminal and
 * neither {@code --json} nor {@code --quiet} is given.
 */
final class OutputOptions {
  /** System property the {@code tidemark} launcher sets when stderr is a terminal. */
  static final String STDERR_TTY_PROPERTY = "tidemark.stderr.tty";

  @Option(names = "--json", description = {"Print one JSON document on one line on stdout (for monitoring: append "
      + "to a JSON Lines log), with command, startedAt, finishedAt, status (ok, partial, failed) and exitCode; on "
      + "failure an error document, never nothing."})
  boolean json;

  @Option(names = "--notify-command", paramLabel = "CMD",
      description = {"After the run, whether it succeeded or failed, run CMD with /bin/sh -c, the run's JSON document "
          + "(the line --json prints) on its stdin and TIDEMARK_COMMAND, TIDEMARK_STATUS, TIDEMARK_EXIT_CODE in its "
          + "environment; for mail or chat alerts. Its output goes to stderr; its failure is one warning and does not "
          + "change the exit code."})
  String notifyCommand;

  @Option(names = "--notify-timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "Stop --notify-command (and what it started) after SECONDS (default: ${DEFAULT-VALUE}).")
  long notifyTimeoutSeconds;

  /** When the command was set up: its run's start, for the JSON document. */
  final java.time.Instant startedAt = java.time.Instant.now();

  @Option(names = {"-q", "--quiet"}, description = "Print nothing but errors.")
  boolean quiet;

  @Option(
      names = {"-v", "--verbose"},
      description = "Log more to stderr (-v: info, -vv: debug).")
  boolean[] verbose = new boolean[0];

  /** Sets the log level from {@code -v}; must run before the first logger is created. */
  void configureLogging() {
    String level =
        switch (quiet ? 0 : verbose.length) {
          case 0 -> "warn";
          case 1 -> "info";
          default -> "debug";
        };
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level.toLowerCase(Locale.ROOT));
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
  }

  /** Whether to draw a progress bar. */
  boolean progress() {
    return !json && !quiet && Boolean.getBoolean(STDERR_TTY_PROPERTY);
  }

  /** Whether the run's JSON document is wanted: for {@code --json}, for {@code --notify-command}, or both. */
  boolean document() {
    return json || notifyCommand != null;
  }

  /**
   * Ends the run with its JSON document: {@code command}, {@code startedAt}, {@code finishedAt},
   * {@code status} and {@code exitCode}, then the command's own fields. Printed on stdout with
   * {@code --json}; given to {@code --notify-command}, whose failure is a warning on stderr.
   */
  void printResult(picocli.CommandLine cli, String command, java.util.Map<String, Object> fields, int exitCode) {
    java.util.Map<String, Object> doc = new java.util.LinkedHashMap<>();
    doc.put("command", command);
    doc.put("startedAt", startedAt.toString());
    doc.put("finishedAt", java.time.Instant.now().toString());
    doc.put("status", exitCode == ExitCodes.OK ? "ok" : exitCode == ExitCodes.PARTIAL ? "partial" : "failed");
    doc.put("exitCode", exitCode);
    doc.putAll(fields);
    String line = Json.line(doc);
    if (json) {
      cli.getOut().println(line);
      cli.getOut().flush();
    }
    if (notifyCommand != null) {
      new Notifier(notifyCommand, java.time.Duration.ofSeconds(Math.max(1, notifyTimeoutSeconds)), cli.getErr())
          .run(line, Map.of("TIDEMARK_COMMAND", command, "TIDEMARK_STATUS", (String) doc.get("status"),
              "TIDEMARK_EXIT_CODE", Integer.toString(exitCode)));
    }
  }

  /** Whether to print human-readable text on stdout. */
  boolean text() {
    return !json && !quiet;
  }
}
