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
import java.nio.file.Path;
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
import org.tidemark.store.StoreInput;
import org.tidemark.store.StoreOutput;

/**
 * The archive writer's stage is written on a thread of its own while the next one fills ({@link
 * StageWrites}): the output still sees one write at a time, in order (the archive reads back chunk
 * for chunk), the writes leave the caller's thread, and a write that fails is reported by the
 * writer, typed as the output threw it, with nothing committed.
 */
class StageWritesTest {

  /** A memory store whose outputs count their writes, check they never overlap, and fail the {@code failAt}-th. */
  private static final class WatchedStore implements ArchiveStore {
    final MemoryStore inner = new MemoryStore();
    final int failAt;
    final AtomicInteger writes = new AtomicInteger();
    final AtomicBoolean busy = new AtomicBoolean();
    final AtomicBoolean overlapped = new AtomicBoolean();
    final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    final IOException failure = new IOException("no space left on device (write refused by the test)");

    WatchedStore(int failAt) {
      this.failAt = failAt;
    }

    @Override
    public StoreOutput createOutput(String name) throws IOException {
      StoreOutput out = inner.createOutput(name);
      return new StoreOutput() {
        @Override
        public Path path() {
          return out.path();
        }

        @Override
        public int alignment() {
          return out.alignment();
        }

        @Override
        public long position() {
          return out.position();
        }

        @Override
        public void write(ByteBuffer... parts) throws IOException {
          if (!busy.compareAndSet(false, true)) {
            overlapped.set(true);
          }
          try {
            threads.add(Thread.currentThread());
            if (writes.incrementAndGet() == failAt) {
              throw failure;
            }
            Thread.sleep(2); // a device's latency: an overlapping write would show
            out.write(parts);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException();
          } finally {
            busy.set(false);
          }
        }

        @Override
        public StoreInput openPending() throws IOException {
          return out.openPending();
        }

        @Override
        public void commit() throws IOException {
          out.commit();
        }

        @Override
        public void close() throws IOException {
          out.close();
        }
      };
    }

    @Override
    public List<String> list(String prefix) throws IOException {
      return inner.list(prefix);
    }

    @Override
    public boolean exists(String name) throws IOException {
      return inner.exists(name);
    }

    @Override
    public StoreInput openInput(String name) throws IOException {
      return inner.openInput(name);
    }

    @Override
    public StoreOutput replaceOutput(String name) throws IOException {
      return inner.replaceOutput(name);
    }

    @Override
    public boolean delete(String name) throws IOException {
      return inner.delete(name);
    }

    @Override
    public List<Path> discardAbandoned(String prefix) throws IOException {
      return inner.discardAbandoned(prefix);
    }

    @Override
    public Path locate(String name) {
      return inner.locate(name);
    }
  }

  /** 40 MiB of guest data in chunks of 256 KiB, stored raw: five stages and a bit. */
  private static final ArchiveFixtures.Disk DISK = ArchiveFixtures.Disk.dense("vda", 5, 40 << 20);
  private static final String NAME = Repository.archiveName("vm1", "cp1");

  private static Manifest manifest() {
    return Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(), List.of(DISK.manifest(DiskManifest.FULL)));
  }

  @Test
  void stagesAreWrittenOffTheCallersThreadOneAtATimeInOrder() throws Exception {
    WatchedStore store = new WatchedStore(-1);
    try (ArchiveWriter w = ArchiveWriter.create(store, NAME, ArchiveFixtures.CHECKPOINT, manifest())) {
      DISK.write(w, 256 << 10, Codec.NONE);
      w.commit();
    }
    assertFalse(store.overlapped.get(), "two writes at once");
    assertTrue(store.writes.get() >= 5, store.writes + " writes");
    assertNotEquals(Set.of(Thread.currentThread()), store.threads, "every write on the caller's thread");
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
    WatchedStore store = new WatchedStore(failAt);
    IOException e = assertThrows(IOException.class, () -> {
      try (ArchiveWriter w = ArchiveWriter.create(store, NAME, ArchiveFixtures.CHECKPOINT, manifest())) {
        DISK.write(w, 256 << 10, Codec.NONE);
        w.commit();
      }
    });
    assertSame(store.failure, e);
    assertFalse(store.exists(NAME), "an archive was committed after a failed write");
    assertEquals(List.of(), store.list("vm1/"));
  }
}
