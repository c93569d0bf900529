package org.tidemark.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A disk image being written by a restore, in some format, under a temporary name until {@link
 * #commit()}: the counterpart of {@link DiskSource}. Implemented by {@link
 * org.tidemark.restore.RawImageWriter} and {@link org.tidemark.qcow2.Qcow2ImageWriter}; {@link
 * org.tidemark.restore.RestoreRunner} picks one by {@link org.tidemark.restore.ImageFormat}.
 * Used inside Tidemark; not meant to be implemented elsewhere.
 *
 * <p>Contract shared by every implementation:
 *
 * <ul>
 *   <li>A new image reads as zeros from end to end; a range never written stays a hole (raw) or
 *       unallocated (qcow2). A writer may leave data that is all zeros unallocated too.
 *   <li>{@link #write} may be called from several threads at once for <em>disjoint</em> ranges,
 *       aligned or not; writes to overlapping ranges must be ordered by the caller (the later one
 *       wins). Ranges must lie within {@code [0, virtualSize)}.
 *   <li>{@link #commit()} forces the image to disk and gives it the target's name atomically; it is
 *       called once, after every {@code write} has returned. Without overwrite, an existing target
 *       is refused both when the writer is created and at commit.
 *   <li>{@link #close()} without a commit (or a {@link #finish()}) discards the temporary file: a restore that fails leaves
 *       nothing under the target's name.
 * </ul>
 */
public interface DiskImageWriter extends Closeable {
  /** The guest-visible size of the image being written. */
  long virtualSize();

  /**
   * Writes guest bytes at {@code offset}: all remaining bytes of {@code data} (its position is
   * advanced to its limit).
   *
   * @throws IOException when the range leaves {@code [0, virtualSize)} or the file cannot be written
   */
  void write(long offset, ByteBuffer data) throws IOException;

  /** Finishes the image, forces it to disk and gives it the target's name; returns the target. */
  Path commit() throws IOException;

  /**
   * Finishes the image and forces it to disk as {@link #commit()} does, but leaves it under its
   * temporary name ({@code .NAME.tmp-RANDOM} beside the target) and returns that name: the caller
   * gives it the target's name ({@link org.tidemark.store.Publish#publish}) or discards it
   * ({@link org.tidemark.store.Publish#discard}), so that several images can be named together
   * once all are complete. Called once, instead of {@code commit}.
   */
  Path finish() throws IOException;

  /** Discards the image unless it was committed; idempotent. */
  @Override
  void close() throws IOException;
}
