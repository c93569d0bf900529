package org.tidemark.disk;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A disk as the backup sees it: its size, guest bytes, allocation and dirty extents, and the state
 * of its persistent dirty bitmaps. The backup planner decides from it and the pipeline copies from
 * it. Implemented by the native qcow2 reader ({@code org.tidemark.qcow2.Qcow2Image}), {@link
 * RawImage} and an NBD export of a running domain ({@code org.tidemark.libvirt.LiveDisk}); {@code
 * org.tidemark.image.Images} opens an image file as one, whatever its format.
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

  /**
   * The state of the named persistent dirty bitmap across the source's backing chain. A source
   * without bitmaps (a raw file) answers {@link BitmapState#MISSING}. Every source answers
   * explicitly (no default): a wrapping source that forgot to forward this would silently turn
   * every incremental into a full copy.
   *
   * @throws IOException when the source cannot be read
   */
  BitmapState bitmap(String name) throws IOException;
}
