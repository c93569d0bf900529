package org.tidemark.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A committed object of an {@link ArchiveStore}, open for positional reads: a local file channel, or
 * ranged {@code GET}s of an object store's key.
 *
 * <p>Thread-safe: {@link #read} does not depend on or change any position, so several threads may
 * read at once. {@link #size()} is fixed while the input is open.
 */
public interface StoreInput extends Closeable {
  /** The object, for messages ({@link ArchiveStore#locate}). */
  Path path();

  /** The object's size in bytes. */
  long size() throws IOException;

  /**
   * Reads bytes from {@code position} into {@code dst}, as {@link
   * java.nio.channels.FileChannel#read(ByteBuffer, long)} does: returns how many were read (at
   * least one when {@code dst} has room and {@code position < size()}), or {@code -1} at or beyond
   * the end.
   */
  int read(ByteBuffer dst, long position) throws IOException;
}
