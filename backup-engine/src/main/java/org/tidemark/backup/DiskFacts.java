package org.tidemark.backup;

import java.io.IOException;

/**
 * What the backup planner needs to know about one disk image as it is now: its size and the state
 * of its bitmaps. Implemented over the qcow2 reader (and, later, over an NBD export).
 */
public interface DiskFacts {
  /** The guest-visible size in bytes. */
  long virtualSize();

  /**
   * The state of the named bitmap across the image's backing chain.
   *
   * @throws IOException when the image cannot be read
   */
  BitmapState bitmap(String name) throws IOException;
}
