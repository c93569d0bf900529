package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.text.SimpleDateFormat;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Date;
import java.util.TimeZone;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.simple.SimpleServiceProvider;

/**
 * The command's log lines are those slf4j-simple wrote with the settings the command gave it before
 * (ground truth: slf4j-simple itself, and the JDK's SimpleDateFormat for the time stamps), and
 * {@code -q}, {@code -v} and {@code -vv} set the level as before.
 */
class StderrLoggingTest {
  private static final String PATTERN = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX";
  private static final String STAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d) ";

  @AfterEach
  void levelBack() {
    StderrLogging.setThreshold(Level.INFO);
  }

  /** What {@code events} printed on System.err, each time stamp replaced by {@code <time> }. */
  private static String logged(Logger logger, Consumer<Logger> events) {
    PrintStream saved = System.err;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      events.accept(logger);
    } finally {
      System.setErr(saved);
    }
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertTrue(text.isEmpty() || text.lines().findFirst().orElseThrow().matches(STAMP + ".*"), text);
    return text.replaceAll("(?m)^" + STAMP, "<time> ");
  }

  @Test
  void linesAreSlf4jSimplesLines() {
    // the settings OutputOptions gave slf4j-simple before StderrLogging
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "trace");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
    System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", PATTERN);
    SimpleServiceProvider simple = new SimpleServiceProvider();
    simple.initialize();
    StderrLogging ours = new StderrLogging();
    StderrLogging.setThreshold(Level.TRACE);
    String name = "org.tidemark.backup.BackupRunner";
    RuntimeException failure = new RuntimeException("disk vda: read failed at offset 65536");
    Consumer<Logger> events = log -> {
      log.warn("removed {}, left by a backup that did not finish", "repo/d/cp2.tar.partial");
      log.info("disk {}: {} ({})", "vda", "incremental", "since cp1");
      log.debug("no arguments, a brace {} left as is");
      log.error("failed: {}", "vda", failure);
      log.trace("{} and {}", null, new int[] {1, 2});
      log.warn(new BasicMarkerFactory().getMarker("LIVE"), "with a marker {}", 7);
      log.atInfo().setMessage("fluent {}").addArgument("x").log();
    };
    String expected = logged(simple.getLoggerFactory().getLogger(name), events);
    assertEquals(expected, logged(ours.getLogger(name), events));
    assertTrue(expected.contains("<time> [main] WARN " + name + " - removed repo/d/cp2.tar.partial,"), expected);
    assertTrue(expected.contains("disk vda: read failed at offset 65536\n\tat "), expected);
  }

  @Test
  void timeStampsAreSimpleDateFormats() {
    Instant[] instants = {Instant.parse("2026-12-05T06:07:08.009Z"), Instant.parse("1999-01-31T23:59:59.999Z"),
        Instant.ofEpochMilli(0), Instant.parse("2026-07-01T12:00:00.120Z")};
    for (String zone : new String[] {"UTC", "Europe/Paris", "America/St_Johns", "Asia/Kolkata"}) {
      SimpleDateFormat jdk = new SimpleDateFormat(PATTERN);
      jdk.setTimeZone(TimeZone.getTimeZone(zone));
      for (Instant t : instants) {
        String line = StderrLogging.line(t.atZone(ZoneId.of(zone)), "main", Level.WARN, "x", null, "m");
        assertEquals(jdk.format(Date.from(t)) + " [main] WARN x - m", line, zone + " " + t);
      }
    }
  }

  @Test
  void quietVerboseAndDebugSetTheLevel() {
    Logger log = new StderrLogging().getLogger("org.tidemark.restore.RestoreRunner");
    OutputOptions o = new OutputOptions();
    o.configureLogging();
    assertTrue(log.isWarnEnabled());
    assertFalse(log.isInfoEnabled());
    o.verbose = new boolean[1];
    o.configureLogging();
    assertTrue(log.isInfoEnabled());
    assertFalse(log.isDebugEnabled());
    o.verbose = new boolean[2];
    o.configureLogging();
    assertTrue(log.isDebugEnabled());
    assertFalse(log.isTraceEnabled());
    o.quiet = true;
    o.configureLogging();
    assertFalse(log.isInfoEnabled());
    assertTrue(log.isWarnEnabled());
    assertEquals("", logged(log, l -> l.info("not shown")));
  }
}
