package org.tidemark.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.internal.DirectWrites;

/**
 * Turns the pieces a restore writes in guest order into few, large writes.
 *
 * <p>A restored chain is a patchwork: the full backup's chunks are cut by every newer increment, so
 * the image is assembled from pieces of a few clusters to a few MiB. Written one by one, each small
 * piece is one small write, and on a cold device those wait one after the other. Here a piece of
 * {@value #LARGE} bytes or more is written as it is; smaller pieces that follow each other in the
 * guest are copied into one staging buffer and written together, up to {@value #STAGE} bytes at a
 * time. A lone small piece is written from its own buffer, without a copy.
 *
 * <p>Each piece comes with an action run once its bytes are no longer needed (written, or copied
 * into the staging buffer): the caller's signal that the buffer holding it can be reused. {@link
 * #flush()} writes what is pending; the caller calls it after the last piece. Not thread-safe: the
 * restore's single writing thread owns it.
 */
final class GatheringWriter {
  /** Pieces at least this long are written on their own. */
  static final int LARGE = 1 << 20;
  /** The most bytes one gathered write holds. */
  static final int STAGE = 8 << 20;

  private final RestoreTarget.DiskOutput out;
  private ByteBuffer stage;
  /** Guest offset of the pending run, -1 when nothing is pending. */
  private long start = -1;
  private long end;
  /** The pending run's only piece, not yet copied; null when the run is in {@link #stage}. */
  private ByteBuffer single;
  private Runnable singleRelease;

  GatheringWriter(RestoreTarget.DiskOutput out) {
    this.out = out;
  }

  /**
   * Writes (now or with the next pieces) the remaining bytes of {@code data} at guest {@code
   * offset}; runs {@code release} when {@code data} is no longer needed.
   */
  void write(long offset, ByteBuffer data, Runnable release) throws IOException {
    int n = data.remaining();
    if (start >= 0 && (offset != end || n >= LARGE || end - start + n > STAGE)) {
      flush();
    }
    if (n >= LARGE) {
      out.write(offset, data);
      release.run();
      return;
    }
    if (start < 0) {
      start = offset;
      end = offset + n;
      single = data;
      singleRelease = release;
      return;
    }
    if (single != null) {
      stage().clear().put(single);
      single = null;
      singleRelease.run();
    }
    stage.put(data);
    release.run();
    end += n;
  }

  /** Writes the pending run, if any. */
  void flush() throws IOException {
    if (start < 0) {
      return;
    }
    long at = start;
    start = -1;
    if (single != null) {
      ByteBuffer s = single;
      single = null;
      out.write(at, s);
      singleRelease.run();
    } else {
      out.write(at, stage.flip());
      stage.clear();
    }
  }

  /** The staging buffer, aligned for direct writes; allocated on first need. */
  private ByteBuffer stage() {
    if (stage == null) {
      stage = DirectWrites.allocate(STAGE);
    }
    return stage;
  }
}
