package org.tidemark.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A raw disk image opened read-only: the file's bytes are the guest's. Raw images carry no
 * allocation information Tidemark reads (the whole disk is data) and no bitmaps. Thread-safe.
 */
public final class RawImage implements DiskSource {
  private final Path path;
  private final FileChannel channel;
  private final long size;

  private RawImage(Path path, FileChannel channel) throws IOException {
    this.path = path;
    this.channel = channel;
    this.size = channel.size();
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
    ImageFiles.requireDiskFile(path, path, "image");
    ImageLocks.checkNotInUse(path);
    FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
    try {
      ImageLocks.hold(path, channel);
      return new RawImage(path, channel);
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

  @Override
  public List<Extent> allocation() {
    return size == 0 ? List.of() : List.of(new Extent(0, size, false));
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
    channel.close();
  }
}
