package org.tidemark.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.tidemark.disk.DiskImageWriter;

/**
 * Writes a raw disk image for a restore: a sparse file of the disk's virtual size where only the
 * ranges written hold data; everything else is a hole and reads as zeros.
 *
 * <p>The image is written to a hidden temporary file beside the target ({@code .NAME.tmp-RANDOM})
 * and renamed over the target only by {@link #commit()}, after being forced to disk: a restore
 * that fails or is killed never leaves a file under the target's name. Without {@code overwrite},
 * an existing target is refused before anything is written, and again at commit time.
 *
 * <p>{@link #write} may be called from several threads at once (positional writes). The {@link
 * DiskImageWriter} contract applies.
 */
public final class RawImageWriter implements DiskImageWriter {
  private final Path target;
  private final Path temp;
  private final FileChannel channel;
  private final boolean overwrite;
  private final long size;
  private boolean done;

  private RawImageWriter(Path target, Path temp, FileChannel channel, boolean overwrite, long size) {
    this.size = size;
    this.target = target;
    this.temp = temp;
    this.channel = channel;
    this.overwrite = overwrite;
  }

  /**
   * Starts a raw image of {@code size} bytes to be committed as {@code target}.
   *
   * @throws FileAlreadyExistsException when the target exists and {@code overwrite} is false
   */
  public static RawImageWriter create(Path target, long size, boolean overwrite) throws IOException {
    if (!overwrite && Files.exists(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists (use --force to overwrite)");
    }
    Path temp = org.tidemark.internal.Publish.tempFor(target);
    FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    try (java.io.RandomAccessFile sizer = new java.io.RandomAccessFile(temp.toFile(), "rw")) {
      sizer.setLength(size); // a hole from end to end
    } catch (IOException e) {
      ch.close();
      org.tidemark.internal.Publish.discard(temp);
      throw e;
    }
    return new RawImageWriter(target, temp, ch, overwrite, size);
  }

  @Override
  public long virtualSize() {
    return size;
  }

  /** Writes guest bytes at {@code offset} (all remaining bytes of {@code data}). */
  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    if (offset < 0 || offset > size - data.remaining()) {
      throw new IOException(temp + ": write of " + data.remaining() + " bytes at " + offset
          + " is beyond the virtual size " + size);
    }
    long pos = offset;
    while (data.hasRemaining()) {
      pos += channel.write(data, pos);
    }
  }

  /** Forces the image to disk and gives it the target's name. */
  @Override
  public Path commit() throws IOException {
    channel.force(true);
    channel.close();
    done = true;
    org.tidemark.internal.Publish.publish(temp, target, overwrite);
    return target;
  }

  /** Discards the image unless it was committed. */
  @Override
  public void close() throws IOException {
    if (done) {
      return;
    }
    done = true;
    try {
      channel.close();
    } finally {
      org.tidemark.internal.Publish.discard(temp);
    }
  }
}
