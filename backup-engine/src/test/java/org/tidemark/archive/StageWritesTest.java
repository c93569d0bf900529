package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.store.ArchiveStore;
import org.tidemark.store.MemoryStore;
import org.tidemark.store.StoreOutput;

/**
 * The archive writer's stage is written on a thread of its own while the next one fills ({@link
 * StageWrites}): the output still sees one write at a time, in order (the archive reads back chunk
 * for chunk), the writes leave the caller's thread, and a write that fails is reported by the
 * writer, typed as the output threw it, with nothing committed.
 */
class StageWritesTest {

  /** A memory store whose outputs count their writes, check they never overlap, and fail the {@code failAt}-th. */
  private static final class Watch {
    final MemoryStore inner = new MemoryStore();
    final int failAt;
    /** The alignment the outputs report: above 1, the writer writes large chunks' data behind the caller. */
    final int alignment;
    final AtomicInteger writes = new AtomicInteger();
    final AtomicBoolean busy = new AtomicBoolean();
    final AtomicBoolean overlapped = new AtomicBoolean();
    final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    final IOException failure = new IOException("no space left on device (write refused by the test)");
    /** The store: the memory store's, but for the outputs it creates. */
    final ArchiveStore store = forward(ArchiveStore.class, inner,
        (m, args) -> m.getName().equals("createOutput") ? output((StoreOutput) m.invoke(inner, args)) : TARGET);

    Watch(int failAt) {
      this(failAt, 1);
    }

    Watch(int failAt, int alignment) {
      this.failAt = failAt;
      this.alignment = alignment;
    }

    private StoreOutput output(StoreOutput out) {
      return forward(StoreOutput.class, out, (m, args) -> {
        if (m.getName().equals("alignment") && alignment > 1) {
          return alignment;
        }
        if (!m.getName().equals("write")) {
          return TARGET;
        }
        if (!busy.compareAndSet(false, true)) {
          overlapped.set(true);
        }
        try {
          threads.add(Thread.currentThread());
          if (writes.incrementAndGet() == failAt) {
            throw failure;
          }
          Thread.sleep(2); // a device's latency: an overlapping write would show
          return m.invoke(out, args);
        } finally {
          busy.set(false);
        }
      });
    }
  }

  /** What an {@link Intercept} returns to leave a call to the target. */
  private static final Object TARGET = new Object();

  /** What a call does instead of the target's method, or {@link #TARGET} to leave it to the target. */
  private interface Intercept {
    Object call(Method m, Object[] args) throws Exception;
  }

  /** {@code target} as a {@code type} whose calls {@code override} may take over; exceptions thrown as they are. */
  private static <T> T forward(Class<T> type, T target, Intercept override) {
    return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) -> {
      try {
        Object o = override.call(m, args);
        return o == TARGET ? m.invoke(target, args) : o;
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }));
  }

  /** 40 MiB of guest data in chunks of 256 KiB, stored raw: five stages and a bit. */
  private static final ArchiveFixtures.Disk DISK = ArchiveFixtures.Disk.dense("vda", 5, 40 << 20);
  private static final String NAME = Repository.archiveName("vm1", "cp1");

  private static Manifest manifest() {
    return Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(), List.of(DISK.manifest(DiskManifest.FULL)));
  }

  @Test
  void stagesAreWrittenOffTheCallersThreadOneAtATimeInOrder() throws Exception {
    Watch watch = new Watch(-1);
    ArchiveStore store = watch.store;
    try (ArchiveWriter w = ArchiveWriter.create(store, NAME, ArchiveFixtures.CHECKPOINT, manifest())) {
      DISK.write(w, 256 << 10, Codec.NONE);
      w.commit();
    }
    assertFalse(watch.overlapped.get(), "two writes at once");
    assertTrue(watch.writes.get() >= 5, watch.writes + " writes");
    assertNotEquals(Set.of(Thread.currentThread()), watch.threads, "every write on the caller's thread");
    try (ArchiveReader r = ArchiveReader.open(store, NAME)) {
      r.checkTarHeaders();
      for (ChunkRecord c : r.chunks("vda")) {
        byte[] got = new byte[c.rawLength()];
        r.readChunk(c, got);
        assertArrayEquals(java.util.Arrays.copyOfRange(DISK.guest, (int) c.offset(), (int) c.offset() + c.rawLength()),
            got, "at " + c.offset());
      }
    }
  }

  @ParameterizedTest(name = "write {0} fails")
  @ValueSource(ints = {1, 2, 3, 5, 6})
  void aFailedWriteIsReportedAsItIsAndNothingIsCommitted(int failAt) throws Exception {
    Watch watch = new Watch(failAt);
    ArchiveStore store = watch.store;
    IOException e = assertThrows(IOException.class, () -> {
      try (ArchiveWriter w = ArchiveWriter.create(store, NAME, ArchiveFixtures.CHECKPOINT, manifest())) {
        DISK.write(w, 256 << 10, Codec.NONE);
        w.commit();
      }
    });
    assertSame(watch.failure, e);
    assertFalse(store.exists(NAME), "an archive was committed after a failed write");
    assertEquals(List.of(), store.list("vm1/"));
  }

  /** Chunk lengths that take each path: whole 4 KiB blocks, a partial last block, and a small chunk (staged). */
  private static final int[] LENGTHS = {1 << 20, (1 << 20) + 1000, (3 << 20) + 3 * 4096 + 17, 300 << 10};

  /** The guest data the released-chunk tests write: one data extent, chunks of {@link #LENGTHS} in turn. */
  private static final ArchiveFixtures.Disk LARGE = ArchiveFixtures.Disk.dense("vda", 11, 24 << 20);

  private static Manifest largeManifest() {
    return Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(), List.of(LARGE.manifest(DiskManifest.FULL)));
  }

  /**
   * Writes {@link #LARGE} through {@link ArchiveWriter#writeChunk(String, EncodedChunk, Runnable)},
   * each chunk from a direct buffer of its own that its release overwrites with junk (as a caller
   * reusing it would), recording on which thread each release ran and how often.
   */
  private static void writeReleased(ArchiveWriter w, List<AtomicInteger> releases, Set<Thread> releasedOn)
      throws IOException {
    long off = 0;
    for (int i = 0; off < LARGE.guest.length; i++) {
      int len = (int) Math.min(LENGTHS[i % LENGTHS.length], LARGE.guest.length - off);
      ByteBuffer raw = ByteBuffer.allocateDirect(len);
      raw.put(LARGE.guest, (int) off, len).flip();
      EncodedChunk c = EncodedChunk.encode(off, raw, Codec.NONE, ByteBuffer.allocateDirect(0));
      AtomicInteger released = new AtomicInteger();
      releases.add(released);
      w.writeChunk("vda", c, () -> {
        releasedOn.add(Thread.currentThread());
        released.incrementAndGet();
        for (int k = 0; k < len; k++) {
          raw.put(k, (byte) 0x55);
        }
      });
      off += len;
    }
  }

  @Test
  void releasedChunksAreWrittenBehindTheCallerAndReleasedOnceTheirBytesAreWritten() throws Exception {
    Watch watch = new Watch(-1, 4096);
    Set<Thread> releasedOn = ConcurrentHashMap.newKeySet();
    List<AtomicInteger> releases = new java.util.ArrayList<>();
    try (ArchiveWriter w = ArchiveWriter.create(watch.store, NAME, ArchiveFixtures.CHECKPOINT, largeManifest())) {
      writeReleased(w, releases, releasedOn);
      w.commit();
    }
    assertTrue(releases.stream().allMatch(r -> r.get() == 1), "releases: " + releases);
    assertFalse(watch.overlapped.get(), "two writes at once");
    assertTrue(releasedOn.stream().anyMatch(t -> t != Thread.currentThread()), "every chunk written on the caller's thread");
    // the same chunks written the plain way give the same archive, byte for byte
    MemoryStore plain = new MemoryStore();
    try (ArchiveWriter w = ArchiveWriter.create(plain, NAME, ArchiveFixtures.CHECKPOINT, largeManifest())) {
      long off = 0;
      for (int i = 0; off < LARGE.guest.length; i++) {
        int len = (int) Math.min(LENGTHS[i % LENGTHS.length], LARGE.guest.length - off);
        w.writeChunk("vda", EncodedChunk.encode(off, java.util.Arrays.copyOfRange(LARGE.guest, (int) off, (int) off + len),
            len, Codec.NONE));
        off += len;
      }
      w.commit();
    }
    assertArrayEquals(bytes(plain), bytes(watch.inner));
    try (org.tidemark.store.StoreInput in = watch.inner.openInput(NAME)) {
      assertEquals(List.of(), ArchiveVerifier.verify(in)); // tar headers, seal, index, every chunk's CRC-32C
    }
  }

  @ParameterizedTest(name = "write {0} fails")
  @ValueSource(ints = {1, 2, 3, 5, 8})
  void aFailedWriteBehindIsReportedAsItIsEveryChunkIsReleasedAndNothingIsCommitted(int failAt) throws Exception {
    Watch watch = new Watch(failAt, 4096);
    List<AtomicInteger> releases = new java.util.ArrayList<>();
    IOException e = assertThrows(IOException.class, () -> {
      try (ArchiveWriter w = ArchiveWriter.create(watch.store, NAME, ArchiveFixtures.CHECKPOINT, largeManifest())) {
        writeReleased(w, releases, ConcurrentHashMap.newKeySet());
        w.commit();
      } // closing waits for the write under way
    });
    assertSame(watch.failure, e);
    assertFalse(releases.isEmpty());
    assertTrue(releases.stream().allMatch(r -> r.get() == 1), "each chunk handed to the writer is released once: "
        + releases);
    assertFalse(watch.inner.exists(NAME), "an archive was committed after a failed write");
    assertEquals(List.of(), watch.inner.list("vm1/"));
  }

  private static byte[] bytes(MemoryStore store) throws IOException {
    try (org.tidemark.store.StoreInput in = store.openInput(NAME)) {
      ByteBuffer all = ByteBuffer.allocate((int) in.size());
      while (all.hasRemaining() && in.read(all, all.position()) > 0) {
        // reads it all
      }
      return all.array();
    }
  }
}
