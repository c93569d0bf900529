package org.tidemark.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code --notify-command}: {@code /bin/sh -c CMD}, the command line exactly as the operator
 * wrote it (pipes, quotes, {@code $(hostname)} work as in the crontab), with the run's JSON document
 * and a newline on its stdin. Nothing from the run is ever put into the command line: the document
 * goes to stdin, three fixed values ({@code TIDEMARK_COMMAND}, {@code TIDEMARK_STATUS}, {@code
 * TIDEMARK_EXIT_CODE}) to the environment, so a hostile domain or checkpoint name cannot inject
 * shell syntax.
 *
 * <p>The hook's stdout and stderr are copied to Tidemark's stderr, each line prefixed (never to
 * stdout: that is the JSON Lines log). A hook that runs past its timeout is killed with everything
 * it started. Its failure (cannot start, non-zero exit, timeout) is one warning line; it never
 * changes the run's exit code, which reports the backup, not the alert.
 */
final class Notifier {
  /** What a hook may print before the rest is dropped: a chatty hook cannot flood the log. */
  private static final int OUTPUT_LIMIT = 64 << 10;
  private final String command;
  private final Duration timeout;
  private final PrintWriter err;

  Notifier(String command, Duration timeout, PrintWriter err) {
    this.command = command;
    this.timeout = timeout;
    this.err = err;
  }

  /** Runs the hook with {@code document} on stdin and {@code env} added to its environment; waits at most the timeout. */
  void run(String document, Map<String, String> env) {
    Process p;
    try {
      ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).redirectErrorStream(true);
      pb.environment().putAll(env);
      p = pb.start();
    } catch (IOException e) {
      warn("could not be started: " + e.getMessage());
      return;
    }
    Thread feed = daemon("tidemark-notify-stdin", () -> {
      try (OutputStream in = p.getOutputStream()) {
        in.write((document + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (IOException e) {
        // the hook did not read its stdin: its exit status says whether that was a failure
      }
    });
    Thread drain = daemon("tidemark-notify-output", () -> copyOutput(p.getInputStream()));
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        warn("did not finish within " + timeout.toSeconds() + " s (--notify-timeout) and was stopped");
        return;
      }
      drain.join(1000); // the rest of its output, unless a process it left running still holds the pipe
      feed.join(100);
      if (p.exitValue() != 0) {
        warn("exited with status " + p.exitValue());
      }
    } catch (InterruptedException e) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      warn("interrupted");
    }
  }

  private void copyOutput(InputStream out) {
    try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(out, StandardCharsets.UTF_8))) {
      long printed = 0;
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (printed < OUTPUT_LIMIT) {
          printed += line.length();
          synchronized (err) {
            err.println("tidemark: notify: " + Printable.escape(line));
            err.flush();
          }
        }
      }
    } catch (IOException e) {
      // the hook was stopped
    }
  }

  private void warn(String what) {
    synchronized (err) {
      err.println("tidemark: warning: --notify-command " + what + ": " + Printable.escape(command)
          + " (the run's exit code is unchanged)");
      err.flush();
    }
  }

  private static Thread daemon(String name, Runnable r) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    t.start();
    return t;
  }
}
