package org.tidemark.backup;

/**
 * Told how far a backup, restore or verify has come, in guest bytes. Called from the thread that
 * runs the operation. The default methods do nothing.
 */
public interface Progress {
  /** Nothing is reported. */
  Progress NONE = new Progress() {};

  /** The operation will copy {@code totalBytes} guest bytes. */
  default void start(String task, long totalBytes) {}

  /** {@code bytes} more guest bytes are done. */
  default void advance(long bytes) {}

  /** The operation ended (successfully or not). */
  default void finish() {}
}
