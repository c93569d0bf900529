package org.tidemark.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A source of guest bytes plus their allocation and dirty extents: what the backup pipeline copies
 * from. Implemented by the native qcow2 reader; an NBD client can implement it too.
 *
 * <p>Implementations are thread-safe: the pipeline reads from several threads at once.
 */
public interface DiskSource extends Closeable {
  /** What this source is, for messages (the image path). */
  String description();

  /** The guest-visible size in bytes. */
  long virtualSize();

  /**
   * Reads guest bytes from {@code offset} until {@code dst} is full.
   *
   * @throws IOException when the range is beyond the virtual size or the image cannot be read
   */
  void readFully(long offset, ByteBuffer dst) throws IOException;

  /**
   * The allocation of the whole disk: sorted, disjoint extents covering {@code [0, virtualSize)},
   * each saying whether it reads as zeros.
   */
  List<Extent> allocation() throws IOException;

  /**
   * The guest ranges marked dirty in the union of the named bitmaps (merged across the backing
   * chain), sorted and disjoint; {@code zero} is always {@code false} here.
   */
  List<Extent> dirtyExtents(List<String> bitmapNames) throws IOException;
}
