package org.tidemark.backup;

/**
 * {@link org.tidemark.engine.Progress} under its former name, kept so that existing
 * implementations compile; new code implements {@code org.tidemark.engine.Progress}.
 */
public interface Progress extends org.tidemark.engine.Progress {
  /** Nothing is reported. */
  Progress NONE = new Progress() {};
}
