package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The fallbacks of {@link Holes}: a file system that answers {@code SEEK_DATA} with {@code EINVAL}
 * (it does not tell holes) makes every range data after one question, and no C library at all
 * makes every range data without any; {@code ENXIO} (no data after the offset) is a hole to the end.
 */
class HolesTest {
  /** A C library whose lseek fails with {@code errno}, counting the calls. */
  private static final class FailingLibC implements Holes.LibC {
    final int errno;
    final AtomicInteger lseeks = new AtomicInteger();

    FailingLibC(int errno) {
      this.errno = errno;
    }

    @Override
    public int open(String path, int flags) {
      return 42;
    }

    @Override
    public long lseek(int fd, long offset, int whence) {
      lseeks.incrementAndGet();
      throw new LastErrorException(errno);
    }

    @Override
    public int fstat(int fd, Pointer stat) {
      throw new LastErrorException(errno);
    }

    @Override
    public int close(int fd) {
      return 0;
    }
  }

  @Test
  void aFileSystemThatDoesNotTellMakesEverythingDataAfterOneQuestion() {
    FailingLibC libc = new FailingLibC(22); // EINVAL
    try (Holes h = Holes.of(Path.of("/nonexistent"), libc)) {
      assertEquals(List.of(new Holes.Run(0, 1 << 20, false)), h.runs(0, 1 << 20));
      assertFalse(h.isHole(4096, 4096));
      assertEquals(List.of(new Holes.Run(5 << 20, 6 << 20, false)), h.runs(5 << 20, 6 << 20));
      assertTrue(h.allocatedBytes().isEmpty());
    }
    assertEquals(1, libc.lseeks.get(), "asked once, then known not to tell");
  }

  @Test
  void noDataAfterAnOffsetIsAHoleToTheEnd() {
    FailingLibC libc = new FailingLibC(6); // ENXIO
    try (Holes h = Holes.of(Path.of("/nonexistent"), libc)) {
      assertEquals(List.of(new Holes.Run(4096, 1 << 30, true)), h.runs(4096, 1 << 30));
      assertTrue(h.isHole(8192, 1 << 20));
    }
    assertEquals(1, libc.lseeks.get(), "the run found is kept");
  }

  @Test
  void withoutACLibraryEverythingIsData() {
    try (Holes h = Holes.of(Path.of("/nonexistent"), null)) {
      assertEquals(List.of(new Holes.Run(0, 100, false)), h.runs(0, 100));
      assertEquals(0, h.calls());
    }
  }
}
