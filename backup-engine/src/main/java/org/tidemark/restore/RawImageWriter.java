package org.tidemark.restore;


import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.EarlyWriteback;

/**
 * Writes a raw disk image for a restore: a sparse file of the disk's virtual size where only the
 * ranges written hold data; everything else is a hole and reads as zeros.
 *
 * <p>The image is written to a hidden temporary file beside the target ({@code .NAME.tmp-RANDOM})
 * and renamed over the target only by {@link #commit()}, after being forced to disk: a restore
 * that fails or is killed never leaves a file under the target's name. Without {@code overwrite},
 * an existing target is refused before anything is written, and again at commit time.
 *
 * <p>Data goes around the page cache where the file system allows it and the write is aligned
 * ({@link DirectWrites}): pieces of a restore are cluster-aligned, and a restore's buffers are
 * aligned to the file system block.
 *
 * <p>{@link #write} may be called from several threads at once (positional writes). The {@link
 * DiskImageWriter} contract applies.
 */
public final class RawImageWriter implements DiskImageWriter {
  private final Path target;
  private final Path temp;
  private final FileChannel channel;
  private final DirectWrites directWrites;
  private final boolean overwrite;
  private final long size;
  /** Granules that received data: zeros written there later must be written, not left as holes. */
  private final BitSet written = new BitSet();
  /** {@link #GRANULE}, or larger for disks past 8 TiB, so the record stays within 2^27 bits. */
  private final long granule;
  private boolean done;

  /** The unit of zero detection: a file system block. */
  static final int BLOCK = 4096;
  /** The unit of the record of where data was written (2 MiB of memory per TiB of disk). */
  static final int GRANULE = 64 * 1024;

  private RawImageWriter(Path target, Path temp, FileChannel channel, boolean overwrite, long size, boolean direct) {
    this.size = size;
    this.granule = Math.max(GRANULE, Long.highestOneBit(Math.max(1, (size - 1) >> 27)) << 1);
    this.target = target;
    this.temp = temp;
    this.channel = channel;
    this.directWrites = DirectWrites.open(temp, channel, new EarlyWriteback(channel), direct);
    this.overwrite = overwrite;
  }

  /**
   * Starts a raw image of {@code size} bytes to be committed as {@code target}.
   *
   * @throws FileAlreadyExistsException when the target exists and {@code overwrite} is false
   */
  public static RawImageWriter create(Path target, long size, boolean overwrite) throws IOException {
    return create(target, size, overwrite, true);
  }

  /**
   * Starts a raw image of {@code size} bytes to be committed as {@code target}, written around the
   * page cache where the file system allows it only when {@code direct}.
   *
   * @throws FileAlreadyExistsException when the target exists and {@code overwrite} is false
   * @throws ImageTooLargeException when the file system does not take a file of {@code size} bytes
   */
  public static RawImageWriter create(Path target, long size, boolean overwrite, boolean direct) throws IOException {
    if (!overwrite && Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists");
    }
    Path temp = org.tidemark.store.Publish.tempFor(target);
    FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try (java.io.RandomAccessFile sizer = new java.io.RandomAccessFile(temp.toFile(), "rw")) {
      sizer.setLength(size); // a hole from end to end
    } catch (IOException e) {
      org.tidemark.store.Publish.closeAndDiscard(ch, temp);
      // EFBIG ("File too large") names no file: say which, how large, and what else works
      throw new ImageTooLargeException(target.toString(), size, "cannot be made " + size + " bytes long ("
          + e.getMessage() + "): the file system there does not take a raw image that large; restore it as"
          + " qcow2, or onto another file system");
    }
    return new RawImageWriter(target, temp, ch, overwrite, size, direct);
  }

  @Override
  public long virtualSize() {
    return size;
  }

  /**
   * Writes guest bytes at {@code offset} (all remaining bytes of {@code data}). Blocks of {@value
   * #BLOCK} bytes that are all zeros are left as holes, as {@code qemu-img convert} leaves them,
   * unless data was written earlier in the same granule ({@value #GRANULE} bytes) (then the zeros must
   * overwrite it: the later write wins).
   */
  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    if (offset < 0 || offset > size - data.remaining()) {
      throw new IOException(temp + ": write of " + data.remaining() + " bytes at " + offset
          + " is beyond the virtual size " + size);
    }
    long pos = offset;
    while (data.hasRemaining()) {
      // one block: up to the next block boundary
      int n = (int) Math.min(data.remaining(), BLOCK - Math.floorMod(pos, BLOCK));
      int start = data.position();
      // extend over the following blocks of the same kind (data, or zeros that may stay holes)
      boolean hole = isZero(data, start, n) && !hasData(pos);
      int end = start + n;
      long next = pos + n;
      while (end < data.limit()) {
        int m = Math.min(data.limit() - end, BLOCK);
        boolean nextHole = isZero(data, end, m) && !hasData(next);
        if (nextHole != hole) {
          break;
        }
        end += m;
        next += m;
      }
      if (hole) {
        data.position(end);
      } else {
        markData(pos, next);
        directWrites.write(pos, data.duplicate().limit(end));
        data.position(end);
      }
      pos = next;
    }
  }

  private static boolean isZero(ByteBuffer b, int from, int length) {
    int i = from;
    int end = from + length;
    for (; i + Long.BYTES <= end; i += Long.BYTES) {
      if (b.getLong(i) != 0) {
        return false;
      }
    }
    for (; i < end; i++) {
      if (b.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private boolean hasData(long offset) {
    synchronized (written) {
      return written.get((int) (offset / granule));
    }
  }

  private void markData(long from, long to) {
    synchronized (written) {
      written.set((int) (from / granule), (int) ((to - 1) / granule) + 1);
    }
  }

  /** Forces the image to disk and gives it the target's name. */
  @Override
  public Path commit() throws IOException {
    org.tidemark.store.Publish.publish(finish(), target, overwrite);
    return target;
  }

  /** Forces the image to disk and closes it under its temporary name, which it returns. */
  @Override
  public Path finish() throws IOException {
    if (done) {
      throw new IllegalStateException("already committed or closed: " + temp);
    }
    org.tidemark.store.Publish.finish(directWrites, channel);
    done = true;
    return temp;
  }

  /** Discards the image unless it was committed. */
  @Override
  public void close() throws IOException {
    if (done) {
      return;
    }
    done = true;
    org.tidemark.store.Publish.abandon(directWrites, channel, temp);
  }
}
