package org.tidemark.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.tidemark.internal.Holes;

/**
 * A raw disk image opened read-only: the file's bytes are the guest's. Its allocation is what the
 * file system tells of the file's holes ({@link Holes}, {@code lseek} with {@code SEEK_DATA} as
 * QEMU asks): a hole reads as zeros and is reported as a zero extent, so a backup neither reads
 * nor stores it; where the file system does not tell, the whole disk is data. No bitmaps.
 * Thread-safe.
 */
public final class RawImage implements DiskSource {
  private final Path path;
  private final FileChannel channel;
  private final long size;
  private final Holes holes;

  private RawImage(Path path, FileChannel channel, Holes holes) throws IOException {
    this.path = path;
    this.channel = channel;
    this.size = channel.size();
    this.holes = holes;
  }

  /**
   * Opens a raw image read-only, refusing one that another process writes and holding it against
   * writers while open ({@link ImageLocks}).
   *
   * @throws org.tidemark.disk.UnsupportedImageException when it is not a regular file or a block
   *     device outside the kernel's pseudo file systems ({@link ImageFiles})
   * @throws ImageInUseException when a running QEMU holds the image for writing
   */
  public static RawImage open(Path path) throws IOException {
    return open(path, Holes::of);
  }

  /** Opens a raw image whose holes {@code holes} tells (for tests: a file system that tells none). */
  static RawImage open(Path path, Function<Path, Holes> holes) throws IOException {
    ImageFiles.requireDiskFile(path, path, "image");
    ImageLocks.checkNotInUse(path);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      ImageLocks.hold(path, channel);
      return new RawImage(path, channel, holes.apply(path));
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public String description() {
    return path.toString();
  }

  @Override
  public long virtualSize() {
    return size;
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0 || offset + dst.remaining() > size) {
      throw new IOException(path + ": read of " + dst.remaining() + " bytes at " + offset + " is outside the size " + size);
    }
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new IOException(path + ": the file ends at " + pos + " (it shrank after it was opened)");
      }
      pos += n;
    }
  }

  /** The file's runs of data and holes over the whole disk: holes as zero extents. */
  @Override
  public List<Extent> allocation() throws IOException {
    return extents(0, size);
  }

  /**
   * The runs of data and holes over guest bytes {@code [from, to)} (clipped to the size), in
   * order: a hole as a zero extent, data as a data extent; one data extent where the file system
   * does not tell.
   */
  public List<Extent> extents(long from, long to) throws IOException {
    List<Extent> out = new ArrayList<>();
    for (Holes.Run r : holes.runs(Math.max(0, from), Math.min(size, to))) {
      if (r.hole() && holes.noDataFrom(r.start()) && channel.size() < size) {
        throw new IOException(path + ": the file ends at " + channel.size() + " (it shrank after it was opened)");
      }
      out.add(new Extent(r.start(), r.end() - r.start(), r.hole()));
    }
    return out;
  }

  /** System calls asked of the file system about holes so far (for tests). */
  long holeQueries() {
    return holes.calls();
  }

  @Override
  public List<Extent> dirtyExtents(List<String> bitmapNames) throws IOException {
    throw new IOException(path + ": a raw image has no bitmaps");
  }

  /** A raw image has no bitmaps: {@link BitmapState#MISSING}. */
  @Override
  public BitmapState bitmap(String name) {
    return BitmapState.MISSING;
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      holes.close();
    }
  }
}
