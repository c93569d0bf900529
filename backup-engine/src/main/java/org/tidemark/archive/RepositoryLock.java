package org.tidemark.archive;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The lock of one domain's folder in a repository: at most one writer (backup, prune,
 * consolidation) works on a domain at a time, in any process on any host that sees the folder
 * with working record locks.
 *
 * <p>The lock is an exclusive record lock ({@code fcntl}, through {@link FileChannel#tryLock()})
 * on the file {@code DOMAIN/.lock}, which is created when missing and never deleted (deleting it
 * would let two runs lock two different files). The kernel releases the lock when its process
 * ends, however it ends: a run killed with {@code kill -9} leaves no stale lock. The holder
 * writes one line into the file (PID, host, operation, start time) that a refused run quotes.
 * Inside one JVM the lock is exclusive between threads too (another thread's {@link #acquire} of a
 * held folder is refused, as from another process) and reentrant for the thread that holds it (a
 * live backup holds the lock around the backup run it starts, which takes it again).
 *
 * <p>Readers (list, verify, restore) take no lock: a writer makes an archive visible only by an
 * atomic rename of a complete file, and only ever removes its own temporary files or, holding
 * this lock, those of writers that died.
 *
 * <p>Thread-safe. Close it to release.
 */
public final class RepositoryLock implements Closeable {
  /** The lock file's name inside the domain's folder. */
  public static final String FILE_NAME = ".lock";
  private static final Duration POLL = Duration.ofMillis(200);
  /** Waits longer than this are this long (a century: no overflow of the nanosecond clock). */
  private static final Duration MAX_WAIT = Duration.ofDays(36_500);
  /** Folders locked by this JVM, with their holder (a record lock does not exclude its own process). */
  private static final java.util.Map<Path, Held> HELD = new ConcurrentHashMap<>();

  /** A lock this JVM holds: its file, channel and record lock, the thread that took it and how often. */
  private static final class Held {
    final Thread owner;
    final FileChannel channel;
    final FileLock lock;
    int count = 1;

    Held(Thread owner, FileChannel channel, FileLock lock) {
      this.owner = owner;
      this.channel = channel;
      this.lock = lock;
    }
  }

  private final Path file;
  private final Held held;
  private boolean closed;

  private RepositoryLock(Path file, Held held) {
    this.file = file;
    this.held = held;
  }

  /**
   * Locks a domain's folder, creating it and its lock file when missing.
   *
   * @param domainDir the domain's folder
   * @param domain the domain's name, for messages
   * @param operation what the holder does, recorded for a refused run ("backup of cp2")
   * @param wait how long to wait for another holder to finish; zero refuses at once
   * @throws RepositoryLockedException when another run holds the lock after {@code wait}
   */
  static RepositoryLock acquire(Path domainDir, String domain, String operation, Duration wait) throws IOException {
    Files.createDirectories(domainDir);
    Path file = domainDir.resolve(FILE_NAME);
    Path key = file.toAbsolutePath().normalize();
    // a monotonic clock: a wall-clock step (NTP) neither shortens nor stretches the wait
    long start = System.nanoTime();
    long waitNanos = wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT.toNanos() : Math.max(0, wait.toNanos());
    while (true) {
      RepositoryLock l = tryAcquire(file, key, operation);
      if (l != null) {
        return l;
      }
      long left = waitNanos - (System.nanoTime() - start);
      if (left <= 0) {
        throw new RepositoryLockedException(file, domain, holderOf(file));
      }
      try {
        Thread.sleep(Math.min(POLL.toMillis(), Math.max(1, TimeUnit.NANOSECONDS.toMillis(left + 999_999))));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while waiting for the lock of domain '" + domain + "'");
      }
    }
  }

  private static RepositoryLock tryAcquire(Path file, Path key, String operation) throws IOException {
    synchronized (HELD) {
      Held mine = HELD.get(key);
      if (mine != null) {
        if (mine.owner != Thread.currentThread()) {
          return null;
        }
        mine.count++; // the same thread again (a live backup around the backup it runs): reentrant
        return new RepositoryLock(key, mine);
      }
      FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      try {
        FileLock lock;
        try {
          lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
          lock = null;
        }
        if (lock == null) {
          channel.close();
          return null;
        }
        String line = "PID " + ProcessHandle.current().pid() + " on " + hostName() + ", " + operation + ", since "
            + Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + "\n";
        channel.truncate(0);
        channel.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), 0);
        Held h = new Held(Thread.currentThread(), channel, lock);
        HELD.put(key, h);
        return new RepositoryLock(key, h);
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
    }
  }

  /** The holder's line, or null when the file cannot be read. */
  private static String holderOf(Path file) {
    try {
      byte[] b = Files.readAllBytes(file);
      String s = new String(b, 0, Math.min(b.length, 512), StandardCharsets.UTF_8).strip();
      return s.replaceAll("\\p{Cntrl}", "?");
    } catch (IOException e) {
      return null;
    }
  }

  /** The kernel's host name (no name service asked: that can stall). */
  private static String hostName() {
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
    } catch (IOException | RuntimeException e) {
      String env = System.getenv("HOSTNAME");
      return env != null ? env : "unknown host";
    }
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Releases the lock (the file stays); a lock taken again by its thread is released by its last close. */
  @Override
  public void close() throws IOException {
    synchronized (HELD) {
      if (closed) {
        return;
      }
      closed = true;
      if (--held.count > 0) {
        return;
      }
      HELD.remove(file);
      try {
        if (held.lock.isValid()) {
          held.lock.release();
        }
      } finally {
        held.channel.close();
      }
    }
  }
}
