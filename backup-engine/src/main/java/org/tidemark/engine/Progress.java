package org.tidemark.engine;

/**
 * Told how far a backup, restore or verify has come, in guest bytes. Called from the thread that
 * runs the operation. The default methods do nothing.
 */
public interface Progress {
  /** Nothing is reported. */
  Progress NONE = new Progress() {};

  /** The operation will copy (or check) {@code totalBytes} guest bytes in all. */
  default void start(String task, long totalBytes) {}

  /**
   * The operation moves on to {@code item} (a disk of a backup or restore, an archive of a
   * verify), which holds {@code totalBytes} of the operation's bytes; the {@link #advance} calls
   * that follow belong to it.
   */
  default void item(String item, long totalBytes) {}

  /** {@code bytes} more guest bytes are done. */
  default void advance(long bytes) {}

  /** The operation ended (successfully or not). */
  default void finish() {}
}
