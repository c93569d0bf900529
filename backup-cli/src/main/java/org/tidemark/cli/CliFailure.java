package org.tidemark.cli;

/**
 * A failure a command has already described: its message is the one line shown to the user, and it
 * carries the exit code to return.
 */
final class CliFailure extends RuntimeException {
  private final int exitCode;

  CliFailure(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
