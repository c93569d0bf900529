package org.tidemark.engine;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.tidemark.xml.DomainGrammar;

/**
 * How the engine runs: the threads that read and code chunks, direct I/O, the grammar checkpoint
 * domains are validated against, and how long a backup waits for another run's domain lock. Built
 * by {@link #builder()}; {@link #defaults()} gives every setting its default. The engine reads no
 * system property: a program maps its own settings here. Immutable and thread-safe.
 */
public final class EngineOptions {
  private static final EngineOptions DEFAULTS = builder().build();

  private final int workers;
  private final Executor executor;
  private final boolean directIo;
  private final DomainGrammar grammar;
  private final Duration lockWait;

  private EngineOptions(Builder b) {
    this.workers = b.workers;
    this.executor = b.executor;
    this.directIo = b.directIo;
    this.grammar = b.grammar;
    this.lockWait = b.lockWait;
  }

  /**
   * Twice as many worker threads as cores, direct I/O where the file system allows it, Tidemark's
   * built-in domain grammar, no wait for a domain lock.
   */
  public static EngineOptions defaults() {
    return DEFAULTS;
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** How many threads the engine starts per operation when no {@link #executor()} is given (at least 1). */
  public int workers() {
    return workers;
  }

  /** The caller's executor the chunk tasks run on; empty: the engine starts {@link #workers()} threads per operation. */
  public Optional<Executor> executor() {
    return Optional.ofNullable(executor);
  }

  /** Whether archives and restored images are written around the page cache where the file system allows it. */
  public boolean directIo() {
    return directIo;
  }

  /** The grammar a checkpoint's {@code <domain>} is validated against. */
  public DomainGrammar grammar() {
    return grammar;
  }

  /** How long a backup waits for another run holding the domain's lock; zero: refuse at once. */
  public Duration lockWait() {
    return lockWait;
  }

  /** These options, waiting up to {@code wait} for another run's domain lock. */
  public EngineOptions withLockWait(Duration wait) {
    Builder b = builder().workers(workers).directIo(directIo).grammar(grammar).lockWait(wait);
    b.executor = executor;
    return b.build();
  }

  /** Builds {@link EngineOptions}; not thread-safe. */
  public static final class Builder {
    private int workers = 2 * Runtime.getRuntime().availableProcessors();
    private Executor executor;
    private boolean directIo = true;
    private DomainGrammar grammar = DomainGrammar.builtIn();
    private Duration lockWait = Duration.ZERO;

    private Builder() {}

    /**
     * How many threads the engine starts per operation to read and code chunks (default: twice
     * the cores); with {@link #executor}, the executor decides how many run at once.
     *
     * @throws IllegalArgumentException when below 1
     */
    public Builder workers(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("workers: " + count + " (expected 1 or more)");
      }
      this.workers = count;
      return this;
    }

    /**
     * Runs the chunk tasks on {@code executor} instead of threads of the engine's own. The engine
     * never shuts it down; it cancels its own tasks when an operation ends early.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Writes around the page cache where the file system allows it (default true). */
    public Builder directIo(boolean on) {
      this.directIo = on;
      return this;
    }

    /** Validates domains against {@code grammar} (default {@link DomainGrammar#builtIn()}). */
    public Builder grammar(DomainGrammar grammar) {
      this.grammar = Objects.requireNonNull(grammar, "grammar");
      return this;
    }

    /** Validates domains against the host's libvirt schemas where installed: {@code grammar(DomainGrammar.host())}. */
    public Builder hostGrammar() {
      return grammar(DomainGrammar.host());
    }

    /**
     * How long a backup waits for another run holding the domain's lock (default zero: refuse at once).
     *
     * @throws IllegalArgumentException when negative
     */
    public Builder lockWait(Duration wait) {
      if (wait.isNegative()) {
        throw new IllegalArgumentException("lock wait: " + wait + " (expected zero or more)");
      }
      this.lockWait = wait;
      return this;
    }

    /** The options. */
    public EngineOptions build() {
      return new EngineOptions(this);
    }
  }
}
