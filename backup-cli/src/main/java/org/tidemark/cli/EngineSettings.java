package org.tidemark.cli;

import java.time.Duration;
import org.tidemark.engine.EngineOptions;

/**
 * The engine options of a {@code tidemark} run, from the command's flags and the system
 * properties the command line has always taken: {@code tidemark.workers} (worker threads) and
 * {@code tidemark.noDirectIo} (write through the page cache). The engine itself reads no property.
 */
final class EngineSettings {
  /** The system property setting the number of worker threads. */
  static final String WORKERS_PROPERTY = "tidemark.workers";
  /** The system property turning direct I/O off. */
  static final String NO_DIRECT_IO_PROPERTY = "tidemark.noDirectIo";

  private EngineSettings() {}

  /** The options, waiting up to {@code lockWait} for another run's domain lock. */
  static EngineOptions options(Duration lockWait) {
    EngineOptions.Builder b = EngineOptions.builder().lockWait(lockWait).directIo(!Boolean.getBoolean(NO_DIRECT_IO_PROPERTY));
    Integer workers = Integer.getInteger(WORKERS_PROPERTY);
    if (workers != null) {
      b.workers(Math.max(1, workers));
    }
    return b.build();
  }

  /** The options of a command that takes no domain lock. */
  static EngineOptions options() {
    return options(Duration.ZERO);
  }
}
