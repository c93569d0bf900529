package org.tidemark.cli;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.BasicMarkerFactory;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.NOPMDCAdapter;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The command's logging: the lines slf4j-simple printed with the settings the command gave it
 * ({@code 2026-12-05T06:07:08.123Z [main] WARN org.tidemark.backup.BackupRunner - message} on
 * stderr, then the stack trace of a throwable), at the level {@code -v}/{@code -vv}/{@code -q} set.
 *
 * <p>Why not slf4j-simple: it builds its {@code SimpleDateFormat} when the first logger is created,
 * which loads the locale and time-zone data, a start-up cost of every run (a no-op incremental:
 * about 0.03-0.06 s) even when nothing is logged; here the time stamp's formatter is made at the
 * first line logged. An SLF4J service provider found through {@code META-INF/services}; not an API.
 */
public final class StderrLogging implements SLF4JServiceProvider, ILoggerFactory {
  /** The level below which nothing is logged: slf4j-simple's default until the command sets it. */
  private static volatile Level threshold = Level.INFO;

  private final ConcurrentMap<String, Logger> loggers = new ConcurrentHashMap<>();
  private final IMarkerFactory markers = new BasicMarkerFactory();
  private final MDCAdapter mdc = new NOPMDCAdapter();

  /** Logs {@code level} and above from now on, in every logger. */
  static void setThreshold(Level level) {
    threshold = level;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return this;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return markers;
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return mdc;
  }

  @Override
  public String getRequestedApiVersion() {
    return "2.0.99";
  }

  @Override
  public void initialize() {
    // nothing until the first line
  }

  @Override
  public Logger getLogger(String name) {
    return loggers.computeIfAbsent(name, StderrLogger::new);
  }

  /** The formatter of the time stamps, made when the first line is logged. */
  private static final class Stamp {
    static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
  }

  /** One line per event, as slf4j-simple wrote it. */
  static String line(ZonedDateTime time, String thread, Level level, String logger, Marker marker, String message) {
    StringBuilder b = new StringBuilder(64);
    b.append(Stamp.FORMAT.format(time)).append(' ');
    b.append('[').append(thread).append("] ");
    b.append(level.toString()).append(' ');
    b.append(logger).append(" - ");
    if (marker != null) {
      b.append(' ').append(marker.getName()).append(' ');
    }
    return b.append(message).toString();
  }

  /** A logger writing to the stderr of the moment. */
  private static final class StderrLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;

    StderrLogger(String name) {
      this.name = name;
    }

    private static boolean enabled(Level level) {
      return level.toInt() >= threshold.toInt();
    }

    @Override
    public boolean isTraceEnabled() {
      return enabled(Level.TRACE);
    }

    @Override
    public boolean isDebugEnabled() {
      return enabled(Level.DEBUG);
    }

    @Override
    public boolean isInfoEnabled() {
      return enabled(Level.INFO);
    }

    @Override
    public boolean isWarnEnabled() {
      return enabled(Level.WARN);
    }

    @Override
    public boolean isErrorEnabled() {
      return enabled(Level.ERROR);
    }

    @Override
    protected String getFullyQualifiedCallerName() {
      return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] arguments,
        Throwable throwable) {
      String text = line(ZonedDateTime.now(), Thread.currentThread().getName(), level, name, marker,
          MessageFormatter.basicArrayFormat(pattern, arguments));
      java.io.PrintStream err = System.err;
      synchronized (err) {
        err.println(text);
        if (throwable != null) {
          throwable.printStackTrace(err);
        }
        err.flush();
      }
    }
  }
}
