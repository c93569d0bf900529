package org.tidemark.backup;

import java.io.Closeable;
import java.io.IOException;
import java.util.Objects;
import org.tidemark.disk.DiskSource;

/**
 * A disk image opened for a backup: the bytes to copy and the facts the planner needs.
 *
 * @param source the guest bytes, allocation and dirty extents
 * @param facts the size and bitmap states
 */
public record OpenDisk(DiskSource source, DiskFacts facts) implements Closeable {
  /** Checks the fields. */
  public OpenDisk {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(facts, "facts");
  }

  @Override
  public void close() throws IOException {
    source.close();
  }
}
