package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A data sync is started in the background once per step of bytes written, never two at once. */
class EarlyWritebackTest {
  private static final long STEP = (long) EarlyWriteback.STEP_MIB << 20;

  /** A channel that only counts data syncs, each of which waits until the test lets it finish. */
  private static final class SyncCounter extends FileChannel {
    final AtomicInteger syncs = new AtomicInteger();
    final AtomicInteger metadataSyncs = new AtomicInteger();
    final CountDownLatch started = new CountDownLatch(1);
    volatile CountDownLatch release = new CountDownLatch(0);

    @Override
    public void force(boolean metaData) throws IOException {
      (metaData ? metadataSyncs : syncs).incrementAndGet();
      started.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override protected void implCloseChannel() {}
    @Override public int read(ByteBuffer dst) { throw new UnsupportedOperationException(); }
    @Override public long read(ByteBuffer[] dsts, int offset, int length) { throw new UnsupportedOperationException(); }
    @Override public int write(ByteBuffer src) { throw new UnsupportedOperationException(); }
    @Override public long write(ByteBuffer[] srcs, int offset, int length) { throw new UnsupportedOperationException(); }
    @Override public long position() { throw new UnsupportedOperationException(); }
    @Override public FileChannel position(long newPosition) { throw new UnsupportedOperationException(); }
    @Override public long size() { throw new UnsupportedOperationException(); }
    @Override public FileChannel truncate(long size) { throw new UnsupportedOperationException(); }
    @Override public long transferTo(long position, long count, WritableByteChannel target) { throw new UnsupportedOperationException(); }
    @Override public long transferFrom(ReadableByteChannel src, long position, long count) { throw new UnsupportedOperationException(); }
    @Override public int read(ByteBuffer dst, long position) { throw new UnsupportedOperationException(); }
    @Override public int write(ByteBuffer src, long position) { throw new UnsupportedOperationException(); }
    @Override public MappedByteBuffer map(MapMode mode, long position, long size) { throw new UnsupportedOperationException(); }
    @Override public FileLock lock(long position, long size, boolean shared) { throw new UnsupportedOperationException(); }
    @Override public FileLock tryLock(long position, long size, boolean shared) { throw new UnsupportedOperationException(); }
  }

  @Test
  void oneDataSyncPerStepAndNeverTwoAtOnce() throws Exception {
    SyncCounter ch = new SyncCounter();
    ch.release = new CountDownLatch(1);
    EarlyWriteback w = new EarlyWriteback(ch);
    w.wrote(STEP - 1);
    Thread.sleep(50);
    assertEquals(0, ch.syncs.get(), "nothing before a step is written");
    w.wrote(1);
    assertTrue(ch.started.await(10, TimeUnit.SECONDS), "a step written starts a data sync");
    w.wrote(3 * STEP); // while that sync runs: no second one
    Thread.sleep(50);
    assertEquals(1, ch.syncs.get());
    ch.release.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ch.syncs.get() < 2 && System.nanoTime() < deadline) {
      w.wrote(STEP); // once it finished, the next step starts the next one
      Thread.sleep(5);
    }
    assertEquals(2, Math.min(2, ch.syncs.get()));
    assertEquals(0, ch.metadataSyncs.get(), "fdatasync only: the final force is the writer's");
  }

  @Test
  void aClosedChannelIsLeftAlone() throws Exception {
    SyncCounter ch = new SyncCounter();
    ch.close();
    EarlyWriteback w = new EarlyWriteback(ch);
    w.wrote(2 * STEP);
    Thread.sleep(100);
    assertEquals(0, ch.syncs.get());
  }
}
