package org.tidemark.cli;

/**
 * A failure a command has already described: its message is the one line shown to the user, and it
 * carries the exit code to return.
 */
final class CliFailure extends RuntimeException {
  private final int exitCode;
  private final String file;

  CliFailure(int exitCode, String message) {
    this(exitCode, message, null);
  }

  /** A failure about {@code file}, which the JSON error document names. */
  CliFailure(int exitCode, String message, String file) {
    super(message, null, false, false);
    this.exitCode = exitCode;
    this.file = file;
  }

  int exitCode() {
    return exitCode;
  }

  /** The file the failure is about, or null. */
  String file() {
    return file;
  }
}
