package org.tidemark.cli;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/**
 * Turns an exception that escaped a command into one line on stderr and a documented exit code.
 *
 * <p>Every typed error of the library maps to a code here, in one place. The stack trace is shown
 * only with {@code --debug} (or for an internal error, where it is what the bug report needs).
 */
final class ErrorReporter implements CommandLine.IExecutionExceptionHandler {

  @Override
  public int handleExecutionException(
      Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    PrintWriter err = commandLine.getErr();
    int code = exitCodeFor(e);
    if (e instanceof CommandLine.ParameterException pe) {
      err.println("tidemark: " + Printable.escape(pe.getMessage()));
      pe.getCommandLine().usage(err);
      return code;
    }
    // an XML error reads FILE:LINE:COL: message, as compilers print them; everything else is prefixed
    // (control characters escaped: names and messages may come from a hostile file)
    err.println(Printable.escape(e instanceof org.tidemark.xml.CheckpointXmlException ? e.getMessage() : "tidemark: " + messageFor(e)));
    if (code == ExitCodes.INTERNAL_ERROR) {
      err.println("tidemark: this is a bug; please report it with the output of --debug");
    }
    err.flush();
    // --json: a failed run is a JSON document on stdout too, so a JSON Lines log never has a gap;
    // --notify-command gets it after the error line is out
    OutputOptions json = documentOutput(parseResult);
    if (json != null) {
      json.printResult(commandLine, parseResult.subcommand() != null
          ? parseResult.subcommand().commandSpec().name() : "tidemark", java.util.Map.of("error", errorDocument(e)), code);
    }
    if (debug(parseResult)) {
      e.printStackTrace(err);
    }
    err.flush();
    return code;
  }

  /**
   * A failure of one domain in a run over several ({@code prune}, {@code consolidate --all}), which
   * goes on with the others: said on {@code err} as a command's error is, and put into the domain's
   * entry {@code doc} as {@code status} ({@code locked} or {@code failed}) and {@code error}.
   */
  static void domainFailed(Exception e, java.util.Map<String, Object> doc, java.io.PrintWriter err) {
    err.println(Printable.escape("tidemark: " + messageFor(e)));
    err.flush();
    doc.put("status", e instanceof org.tidemark.archive.RepositoryLockedException ? "locked" : "failed");
    doc.put("error", errorDocument(e));
  }

  /**
   * The JSON error document of a failure: {@code type}, {@code message}, {@code file} (null when
   * none); for an archive error also where in the archive, from its fields, each when known:
   * {@code entry}, {@code fileOffset}, {@code disk}, {@code offset} (the guest offset); for a
   * refused checkpoint document its {@code line} and {@code column} where known; when the archives
   * that could not be read may hold what was asked for, {@code unreadable}, each as {@link FindingJson}.
   */
  static java.util.Map<String, Object> errorDocument(Exception e) {
    java.util.Map<String, Object> error = new java.util.LinkedHashMap<>();
    error.put("type", e.getClass().getSimpleName());
    error.put("message", e instanceof org.tidemark.xml.CheckpointXmlException ? e.getMessage() : messageFor(e));
    error.put("file", e instanceof java.nio.file.FileSystemException f ? f.getFile()
        : e instanceof CliFailure c ? c.file()
        : e instanceof org.tidemark.archive.ArchiveException a && a.archive() != null ? a.archive().toString()
        : e instanceof org.tidemark.xml.CheckpointXmlException x && !"-".equals(x.resource()) ? x.resource() : null);
    if (e instanceof org.tidemark.archive.ArchiveException a) {
      a.entry().ifPresent(v -> error.put("entry", v));
      a.fileOffset().ifPresent(v -> error.put("fileOffset", v));
      a.disk().ifPresent(v -> error.put("disk", v));
      a.offset().ifPresent(v -> error.put("offset", v));
    }
    if (e instanceof org.tidemark.archive.UnreadableArchivesException u) {
      error.put("unreadable", FindingJson.of(u.unreadable()));
    }
    if (e instanceof org.tidemark.xml.CheckpointXmlException x && x.line() > 0) {
      error.put("line", x.line());
      if (x.column() > 0) {
        error.put("column", x.column());
      }
    }
    return error;
  }

  /** The documented exit code for an exception. */
  static int exitCodeFor(Throwable e) {
    if (e instanceof CommandLine.ParameterException) {
      return ExitCodes.USAGE;
    }
    if (e instanceof CliFailure f) {
      return f.exitCode();
    }
    if (e instanceof org.tidemark.xml.CheckpointXmlException || e instanceof org.tidemark.disk.ImageException) {
      return ExitCodes.INVALID_INPUT;
    }
    if (e instanceof org.tidemark.archive.UnknownPointException) {
      return ExitCodes.INVALID_INPUT; // a mistake in the request, not damage
    }
    if (e instanceof org.tidemark.archive.ArchiveCorruptException) {
      return ExitCodes.CORRUPT_ARCHIVE;
    }
    if (e instanceof org.tidemark.archive.ArchiveException) {
      return ExitCodes.INVALID_INPUT;
    }
    if (e instanceof org.tidemark.libvirt.QuiesceFailedException) {
      return ExitCodes.QUIESCE_FAILED;
    }
    if (e instanceof org.tidemark.archive.RepositoryLockedException) {
      return ExitCodes.LOCKED;
    }
    if (e instanceof org.tidemark.disk.ImageInUseException) {
      return ExitCodes.DISK_IN_USE;
    }
    if (e instanceof FileAlreadyExistsException) {
      return ExitCodes.WOULD_OVERWRITE;
    }
    if (e instanceof IOException) {
      return ExitCodes.IO_ERROR;
    }
    return ExitCodes.INTERNAL_ERROR;
  }

  /** The one-line message: the file first where the exception knows it. */
  static String messageFor(Throwable e) {
    if (e instanceof org.tidemark.qcow2.BackingFileRefusedException b) {
      return e.getMessage() + "; to follow it, give --allow-backing " + b.backingFile();
    }
    if (e instanceof NoSuchFileException n) {
      return n.getFile() + ": " + (n.getReason() != null ? n.getReason() : "no such file or directory");
    }
    if (e instanceof AccessDeniedException a) {
      return a.getFile() + ": permission denied";
    }
    if (e instanceof FileAlreadyExistsException f) {
      return f.getFile() + ": already exists (use --force to overwrite)";
    }
    if (e instanceof org.tidemark.archive.NewestUnreadableException n) {
      return n.getMessage() + "; --checkpoint NAME restores an older one (restorable: " + n.restorable() + ")";
    }
    if (e instanceof org.tidemark.restore.ImageTooLargeException t) {
      return t.getFile() + ": " + t.getReason() + " (--format qcow2)";
    }
    if (e instanceof FileSystemException f && f.getFile() != null) {
      return f.getFile() + ": " + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
    }
    if (e instanceof FileNotFoundException && e.getMessage() != null) {
      return e.getMessage();
    }
    String m = e.getMessage();
    return m != null && !m.isBlank() ? m : e.getClass().getName();
  }

  /** The output options of the command run, when it was asked for its JSON document (--json, --notify-command); else null. */
  private static OutputOptions documentOutput(CommandLine.ParseResult parseResult) {
    CommandLine.ParseResult r = parseResult;
    while (r != null) {
      CommandLine.Model.CommandSpec output = r.commandSpec().mixins().get("output");
      if (output != null && output.userObject() instanceof OutputOptions o && o.document()) {
        return o;
      }
      r = r.subcommand();
    }
    return null;
  }

  private static boolean debug(CommandLine.ParseResult parseResult) {
    CommandLine.ParseResult root = parseResult;
    while (root != null) {
      if (root.hasMatchedOption("--debug")) {
        return true;
      }
      root = root.subcommand();
    }
    return false;
  }
}
