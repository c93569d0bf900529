package org.tidemark.qcow2;

import java.nio.file.Path;

/**
 * The image contradicts the qcow2 format: a bad magic, an offset past the end of the file, a size
 * beyond the limits. The message names the structure (e.g. "L2 table of L1 index 3 at 0x50000"),
 * the value found and what was expected.
 */
public class CorruptImageException extends Qcow2Exception {
  /** A corruption found in {@code file}. */
  public CorruptImageException(Path file, String message) {
    super(file, message);
  }

  /** A corruption found in {@code file}, detected through {@code cause}. */
  public CorruptImageException(Path file, String message, Throwable cause) {
    super(file, message, cause);
  }
}
