package org.tidemark.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes to a file that bypass the page cache ({@code O_DIRECT}) where the file system allows it
 * and the write is aligned, and go through a regular channel otherwise.
 *
 * <p>A restore writes gigabytes that nobody reads soon after. Through the page cache, each byte is
 * copied into a new cache page (on a virtual machine, a page the host may first have to provide),
 * the cache fills with data that evicts what the host was using, and the final flush waits for all
 * of it. A direct write goes from the caller's buffer to the device. It applies when the position,
 * the length and the buffer's address are multiples of the file system's block size and the buffer
 * is direct; other writes (a disk's unaligned tail, small metadata) go through the regular channel,
 * and the kernel keeps the two coherent.
 *
 * <p>When the file system refuses {@code O_DIRECT} (at open, or at the first write: tmpfs on older
 * kernels, some FUSE file systems), every write goes through the regular channel; a write that
 * fails directly is retried there once, so a real failure (a full disk) is reported by the regular
 * write. The final {@code fsync} of the regular channel makes both kinds durable: they share the
 * file.
 *
 * <p>Thread-safe: positional writes; the fallback switch is a volatile flag.
 */
public final class DirectWrites implements java.io.Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(DirectWrites.class);

  private final Path path;
  private final FileChannel buffered;
  private final EarlyWriteback writeback;
  private final int alignment;
  private volatile FileChannel direct;

  private DirectWrites(Path path, FileChannel buffered, EarlyWriteback writeback, FileChannel direct, int alignment) {
    this.path = path;
    this.buffered = buffered;
    this.writeback = writeback;
    this.direct = direct;
    this.alignment = alignment;
  }

  /**
   * Direct writes to {@code path}, a file that {@code buffered} (open for writing) already has open;
   * when the file system does not take them, a plain wrapper of {@code buffered}. What goes through
   * {@code buffered} is counted by {@code writeback}, which sends it to the device early. With
   * {@code directIo} false, always the plain wrapper (every write through the page cache).
   */
  public static DirectWrites open(Path path, FileChannel buffered, EarlyWriteback writeback, boolean directIo) {
    if (!directIo) {
      return new DirectWrites(path, buffered, writeback, null, 1);
    }
    try {
      long block = Files.getFileStore(path).getBlockSize();
      if (block <= 0 || block > MAX_ALIGNMENT || Long.bitCount(block) != 1) {
        return new DirectWrites(path, buffered, writeback, null, 1);
      }
      if (DIRECT == null) {
        return new DirectWrites(path, buffered, writeback, null, 1);
      }
      FileChannel direct = FileChannel.open(path, StandardOpenOption.WRITE, DIRECT);
      return new DirectWrites(path, buffered, writeback, direct, (int) block);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("{}: no direct I/O ({}); writing through the page cache", path, e.toString());
      return new DirectWrites(path, buffered, writeback, null, 1);
    }
  }

  /**
   * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT} (module jdk.unsupported), looked up by name:
   * compiled against, it is a proprietary-API warning that javadoc on newer JDKs turns into an
   * error; null when the runtime has no such option (then every write goes through the page cache).
   */
  private static final java.nio.file.OpenOption DIRECT = directOption();

  private static java.nio.file.OpenOption directOption() {
    try {
      for (Object o : Class.forName("com.sun.nio.file.ExtendedOpenOption").getEnumConstants()) {
        if (((Enum<?>) o).name().equals("DIRECT")) {
          return (java.nio.file.OpenOption) o;
        }
      }
    } catch (ClassNotFoundException | RuntimeException e) {
      LOG.debug("no direct I/O option in this runtime: {}", e.toString());
    }
    return null;
  }

  /** The largest block alignment {@link #allocate} provides. */
  public static final int MAX_ALIGNMENT = 64 << 10;

  /**
   * A direct buffer of {@code capacity} bytes whose start is aligned to {@value #MAX_ALIGNMENT}
   * bytes, so that data read into it from index 0 can be written around the page cache.
   */
  public static ByteBuffer allocate(int capacity) {
    return ByteBuffer.allocateDirect(capacity + 2 * MAX_ALIGNMENT).alignedSlice(MAX_ALIGNMENT).slice(0, capacity);
  }

  /** The alignment direct writes need (position, length, buffer address); 1 when there are none. */
  public int alignment() {
    return alignment;
  }

  /** Whether writes can still go around the page cache. */
  public boolean isDirect() {
    return direct != null;
  }

  /**
   * Writes all remaining bytes of {@code data} at {@code position}: directly when aligned and
   * possible, through the regular channel otherwise (counted for early writeback). Advances {@code
   * data} to its limit.
   *
   * @return whether the bytes went around the page cache
   */
  public boolean write(long position, ByteBuffer data) throws IOException {
    FileChannel d = direct;
    if (d != null && aligned(position, data)) {
      ByteBuffer attempt = data.duplicate();
      try {
        writeFully(d, position, attempt);
        data.position(data.limit());
        return true;
      } catch (IOException e) {
        fallBack(d, e, () -> writeBuffered(position, data));
        return false;
      }
    }
    writeBuffered(position, data);
    return false;
  }

  /**
   * Writes all remaining bytes of {@code parts}, one after the other, from {@code position}: in one
   * gathering write around the page cache when every part is aligned and that is possible, through
   * the regular channel otherwise (counted for early writeback). Advances each part to its limit.
   * Gathering writes are serialised with each other (they use the channel's position); positional
   * {@link #write(long, ByteBuffer)} calls may run beside them.
   *
   * @return whether the bytes went around the page cache
   */
  public synchronized boolean write(long position, ByteBuffer... parts) throws IOException {
    FileChannel d = direct;
    boolean aligned = d != null && position % alignment == 0;
    long total = 0;
    for (ByteBuffer part : parts) {
      aligned &= aligned(0, part);
      total += part.remaining();
    }
    if (aligned) {
      ByteBuffer[] attempt = new ByteBuffer[parts.length];
      for (int i = 0; i < parts.length; i++) {
        attempt[i] = parts[i].duplicate();
      }
      try {
        d.position(position);
        for (long done = 0; done < total; ) {
          done += d.write(attempt);
        }
        for (ByteBuffer part : parts) {
          part.position(part.limit());
        }
        return true;
      } catch (IOException e) {
        fallBack(d, e, () -> writeBuffered(position, parts));
        return false;
      }
    }
    writeBuffered(position, parts);
    return false;
  }

  /** A write through the regular channel. */
  private interface BufferedWrite {
    void run() throws IOException;
  }

  /**
   * After direct write {@code failure} on {@code d}: retries through the page cache; if that works,
   * the file system does not take direct writes, and every later write goes through the page cache.
   * If the retry fails too, that is a real failure (a full disk), reported as the regular write saw
   * it.
   */
  private void fallBack(FileChannel d, IOException failure, BufferedWrite retry) throws IOException {
    try {
      retry.run();
    } catch (IOException again) {
      again.addSuppressed(failure);
      throw again;
    }
    LOG.debug("{}: a direct write failed ({}); writing through the page cache from now on", path, failure.toString());
    direct = null;
    d.close();
  }

  /** The parts one after the other through the page cache, counted for early writeback. */
  private void writeBuffered(long position, ByteBuffer[] parts) throws IOException {
    long total = 0;
    for (ByteBuffer part : parts) {
      total += part.remaining();
    }
    synchronized (buffered) {
      buffered.position(position);
      for (long done = 0; done < total; ) {
        done += buffered.write(parts);
      }
    }
    writeback.wrote(total);
  }

  /** Through the page cache, counted for early writeback. */
  private void writeBuffered(long position, ByteBuffer data) throws IOException {
    int n = data.remaining();
    writeFully(buffered, position, data);
    writeback.wrote(n);
  }

  private boolean aligned(long position, ByteBuffer data) {
    return data.isDirect() && position % alignment == 0 && data.remaining() % alignment == 0
        && data.alignmentOffset(data.position(), alignment) == 0;
  }

  private static void writeFully(FileChannel channel, long position, ByteBuffer data) throws IOException {
    long at = position;
    while (data.hasRemaining()) {
      at += channel.write(data, at);
    }
  }

  /** Closes the direct channel (the regular one stays with its owner). */
  @Override
  public void close() throws IOException {
    FileChannel d = direct;
    direct = null;
    if (d != null) {
      d.close();
    }
  }
}
