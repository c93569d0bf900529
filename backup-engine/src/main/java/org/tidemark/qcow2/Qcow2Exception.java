package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.file.Path;

/** An image cannot be read: the base of the qcow2 reader's typed errors. The message starts with the file. */
public class Qcow2Exception extends IOException {
  private final Path file;

  /** An error about {@code file}. */
  public Qcow2Exception(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  /** An error about {@code file} with its cause. */
  public Qcow2Exception(Path file, String message, Throwable cause) {
    super(file + ": " + message, cause);
    this.file = file;
  }

  /** The image file concerned. */
  public Path file() {
    return file;
  }
}
