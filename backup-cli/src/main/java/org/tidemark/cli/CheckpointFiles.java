package org.tidemark.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.tidemark.model.Checkpoint;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.CheckpointXmlException;
import org.tidemark.xml.DomainGrammar;

/**
 * The checkpoint files a backup reads, validated in two steps so that the backup need not wait for
 * libvirt's domain grammar to compile (about 0.4 s of CPU):
 *
 * <ol>
 *   <li>{@link #read} parses each file at once against Tidemark's checkpoint grammar with the
 *       structural check of its {@code <domain>}: every checkpoint-level error is reported here,
 *       before anything is read from a disk;
 *   <li>{@link #startHostValidation} validates the same bytes against libvirt's {@code domain.rng}
 *       on a background thread, while the data is copied; {@link #awaitHostValidation} is the
 *       backup's last check before its archive is committed, so a checkpoint libvirt's grammar
 *       refuses never yields an archive.
 * </ol>
 *
 * <p>Validation is never skipped: both steps run for every file. When the host has no libvirt
 * schemas the second step has nothing to add and is done at once.
 */
final class CheckpointFiles {
  private record Parsed(String file, byte[] xml, Set<CheckpointXml.ParseOption> options) {}

  /** A file's model, and whether it was parsed allowing a missing {@code <domain>}. */
  private record Read(Checkpoint checkpoint, boolean allowedMissingDomain) {}

  /** Validates one file against libvirt's grammar (a seam for tests). */
  interface HostCheck {
    void check(byte[] xml, String file, Set<CheckpointXml.ParseOption> options) throws CheckpointXmlException;
  }

  private final List<Parsed> files = new ArrayList<>();
  private final Map<Path, Read> read = new HashMap<>();
  private final boolean hostHasGrammar;
  private final HostCheck hostCheck;
  private CompletableFuture<Void> hostValidation = CompletableFuture.completedFuture(null);

  CheckpointFiles() {
    DomainGrammar host = DomainGrammar.host();
    this.hostHasGrammar = host.schemaDirectory().isPresent();
    this.hostCheck = (xml, file, options) -> CheckpointXml.parse(xml, file, options, host);
  }

  /** With another check of the second step, run whether the host has libvirt's schemas or not. */
  CheckpointFiles(HostCheck hostCheck) {
    this.hostHasGrammar = true;
    this.hostCheck = hostCheck;
  }

  /**
   * Reads and parses a checkpoint file (REDEFINE mode) against the structural grammar.
   *
   * @param allowMissingDomain whether the file may lack its {@code <domain>}
   */
  Checkpoint read(String file, boolean allowMissingDomain) throws IOException, CheckpointXmlException {
    Path key = identity(file);
    Read earlier = key == null ? null : read.get(key);
    if (earlier != null && (allowMissingDomain || !earlier.allowedMissingDomain())) {
      return earlier.checkpoint(); // the same file again (--checkpoint inside --checkpoint-dir): parsed once
    }
    byte[] xml = CheckpointCommand.read(file);
    Set<CheckpointXml.ParseOption> options = allowMissingDomain
        ? EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN)
        : Set.of();
    Checkpoint c = CheckpointXml.parse(xml, file, options, DomainGrammar.builtIn());
    files.add(new Parsed(file, xml, options));
    if (key != null) {
      read.put(key, new Read(c, allowMissingDomain));
    }
    return c;
  }

  /** A file's identity: its real path when it has one, else its absolute path; null for no path. */
  private static Path identity(String file) {
    try {
      Path p = Path.of(file).toAbsolutePath().normalize();
      try {
        return p.toRealPath();
      } catch (IOException e) {
        return p; // reading it will report the problem
      }
    } catch (RuntimeException e) {
      return null; // not a path: reading it reports the problem
    }
  }

  /**
   * Starts validating every file read so far against libvirt's grammar, on a background thread.
   * Whatever the thread meets, an {@link Error} included (an out-of-memory error, a stack
   * overflow), it completes the validation: {@link #awaitHostValidation} never waits for a thread
   * that died.
   */
  void startHostValidation() {
    if (!hostHasGrammar || files.isEmpty()) {
      return;
    }
    List<Parsed> todo = List.copyOf(files);
    CompletableFuture<Void> done = new CompletableFuture<>();
    hostValidation = done;
    Runnable validate = () -> {
      String file = null;
      try {
        for (Parsed p : todo) {
          file = p.file();
          hostCheck.check(p.xml(), p.file(), p.options());
        }
        done.complete(null);
      } catch (CheckpointXmlException e) {
        done.completeExceptionally(e);
      } catch (Throwable e) { // an Error too: the main thread waits on this future
        done.completeExceptionally(new HostValidationFailure(file, e));
      }
    };
    try {
      Thread t = new Thread(validate, "tidemark-validate");
      t.setDaemon(true);
      t.start();
    } catch (Throwable e) { // no thread to be had: validate on this one
      validate.run();
    }
  }

  /**
   * Waits for the validation against libvirt's grammar.
   *
   * @throws CheckpointXmlException the first file it refused, with line and column; or the file
   *     whose validation failed otherwise (an {@link Error} such as running out of memory), which
   *     the command reports as invalid input (exit code 3)
   */
  void awaitHostValidation() throws CheckpointXmlException, InterruptedException {
    try {
      hostValidation.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CheckpointXmlException x) {
        throw x;
      }
      if (e.getCause() instanceof HostValidationFailure f) {
        if (f.getCause() instanceof RuntimeException r) {
          throw r; // a bug in the validation (exit code 70), no longer on the thread that met it
        }
        throw f.typed();
      }
      throw new IllegalStateException("validation against libvirt's grammar failed", e.getCause());
    }
  }

  /** A validation that ended otherwise than with a verdict, and the file it was on. */
  private static final class HostValidationFailure extends Exception {
    private final String file;

    HostValidationFailure(String file, Throwable cause) {
      super(cause);
      this.file = file;
    }

    CheckpointXmlException typed() {
      Throwable c = getCause();
      String what = c instanceof OutOfMemoryError ? "ran out of memory"
          : c instanceof StackOverflowError ? "overflowed its stack"
          : "failed (" + c.getClass().getName() + (c.getMessage() == null ? "" : ": " + c.getMessage()) + ")";
      CheckpointXmlException x = new CheckpointXmlException(file == null ? "-" : file, 0, 0,
          "validating the document against libvirt's domain grammar " + what);
      x.initCause(c);
      return x;
    }
  }
}
