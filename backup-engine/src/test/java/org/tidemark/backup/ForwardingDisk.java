package org.tidemark.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;

/**
 * A source that forwards everything to a {@link MemoryDisk}, for tests that change one behaviour
 * (reads that fail, wait or come in pieces) and must keep every other answer, the bitmap states
 * included: a wrapper that forgot them would turn incrementals into full copies unnoticed. Closing
 * it leaves the disk open.
 */
abstract class ForwardingDisk implements DiskSource {
  final MemoryDisk disk;

  ForwardingDisk(MemoryDisk disk) {
    this.disk = disk;
  }

  @Override
  public long virtualSize() {
    return disk.virtualSize();
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    disk.readFully(offset, dst);
  }

  @Override
  public List<Extent> allocation() {
    return disk.allocation();
  }

  @Override
  public List<Extent> dirtyExtents(List<String> names) {
    return disk.dirtyExtents(names);
  }

  @Override
  public BitmapState bitmap(String name) throws IOException {
    return disk.bitmap(name);
  }

  @Override
  public void close() {}
}
