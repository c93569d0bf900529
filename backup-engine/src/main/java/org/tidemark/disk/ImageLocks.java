package org.tidemark.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Honours QEMU's image locks, as {@code qemu-img} does, so that Tidemark never reads an image that
 * a running QEMU (or {@code qemu-nbd}, {@code qemu-img commit}, ...) is writing.
 *
 * <p>QEMU marks what it does with an image by advisory locks on single bytes of the file (its
 * {@code file-posix} driver, "OFD" locks, shared mode): byte {@code 100 + p} for each permission
 * {@code p} it holds, byte {@code 200 + p} for each permission it does not let others have. The
 * permissions, by bit number: 0 consistent read, 1 write, 2 write-unchanged, 3 resize. A QEMU
 * process that runs a guest on the image holds 100-101 (read, write), 103 (resize), and refuses
 * others write and resize (201, 203); {@code qemu-nbd -r} holds 100, 201 and 203 only.
 *
 * <p>A backup reads an image consistently and shares neither writing nor resizing with anyone:
 *
 * <ul>
 *   <li>{@link #checkNotInUse} refuses the image when another process holds byte 101 (write) or 103
 *       (resize), or forbids consistent reads (200): {@link ImageInUseException};
 *   <li>{@link #hold} then takes shared locks on bytes 100, 201 and 203 of the open channel, as a
 *       reading {@code qemu-img} does, so that a QEMU started during the backup fails to get its
 *       write lock ("Failed to get 'write' lock") instead of changing the image under the copy.
 * </ul>
 *
 * <p>Java has no call to test a lock without taking it on a read-only file, so the holders are
 * read from {@code /proc/locks} (Linux: every lock on the system, by device and inode; QEMU's
 * OFD locks and POSIX locks alike). Where that file does not exist (not Linux) the check finds
 * nothing and the shared locks are still taken. The shared locks are POSIX record locks of this
 * process: they end when the channel is closed (and, POSIX being what it is, when any other
 * channel of this process on the same file is closed). Stateless and thread-safe.
 */
public final class ImageLocks {
  /** Byte QEMU locks for "holds permission p": {@code PERM_BASE + p}. */
  static final int PERM_BASE = 100;
  /** Byte QEMU locks for "does not share permission p": {@code SHARED_BASE + p}. */
  static final int SHARED_BASE = 200;
  static final int CONSISTENT_READ = 0;
  static final int WRITE = 1;
  static final int RESIZE = 3;

  private static final Path PROC_LOCKS = Path.of("/proc/locks");

  private ImageLocks() {}

  /**
   * Refuses an image that another process writes or may resize, as QEMU's locks say.
   *
   * @throws ImageInUseException when another process holds QEMU's write or resize permission on
   *     {@code image}, or forbids consistent reads of it
   * @throws IOException when the file's identity cannot be read
   */
  public static void checkNotInUse(Path image) throws IOException {
    checkNotInUse(image, PROC_LOCKS);
  }

  static void checkNotInUse(Path image, Path procLocks) throws IOException {
    Optional<FileId> id = FileId.of(image);
    if (id.isEmpty()) {
      return;
    }
    ByteBuffer all = readAll(procLocks);
    if (all == null) {
      return;
    }
    // only the lines about this file are parsed: the system may hold many locks
    // the kernel prints "%02x:%02x:%lu" (major, minor, inode)
    byte[] token = String.format(" %02x:%02x:%d ", id.get().major(), id.get().minor(), id.get().inode())
        .getBytes(StandardCharsets.US_ASCII);
    long self = ProcessHandle.current().pid();
    for (int at = indexOf(all, token, 0); at >= 0; at = indexOf(all, token, at + 1)) {
      int start = at;
      while (start > 0 && all.get(start - 1) != '\n') {
        start--;
      }
      int end = at;
      while (end < all.limit() && all.get(end) != '\n') {
        end++;
      }
      byte[] line = new byte[end - start];
      all.get(start, line);
      for (HeldLock l : parse(List.of(new String(line, StandardCharsets.US_ASCII)))) {
        if (!l.file().equals(id.get()) || l.pid() == self) {
          continue;
        }
        String what = null;
        if (l.covers(PERM_BASE + WRITE)) {
          what = "writes to it";
        } else if (l.covers(PERM_BASE + RESIZE)) {
          what = "may resize it";
        } else if (l.covers(SHARED_BASE + CONSISTENT_READ)) {
          what = "forbids consistent reads of it";
        }
        if (what != null) {
          throw new ImageInUseException(image, "another process " + what + " (QEMU's image lock, " + l.kind()
              + (l.pid() > 0 ? " of PID " + l.pid() : "") + ", is held on byte " + l.first()
              + "): it is in use by a running QEMU process; back it up live through libvirt, or shut the domain"
              + " down first");
        }
      }
    }
  }

  /** This thread's buffer for {@code /proc/locks}, which reports no size: read until its end. */
  private static final ThreadLocal<ByteBuffer> PROC_BUFFER = ThreadLocal.withInitial(() -> ByteBuffer.allocate(16 << 10));
  /** The most of {@code /proc/locks} read (about 100,000 locks). */
  private static final int MAX_PROC_LOCKS = 8 << 20;

  /** The whole file in this thread's buffer (flipped), or null when it cannot be read. */
  private static ByteBuffer readAll(Path file) {
    ByteBuffer b = PROC_BUFFER.get().clear();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (true) {
        if (!b.hasRemaining()) {
          if (b.capacity() >= MAX_PROC_LOCKS) {
            break; // beyond any real system: check what was read
          }
          ByteBuffer bigger = ByteBuffer.allocate(b.capacity() * 2);
          bigger.put(b.flip());
          b = bigger;
          PROC_BUFFER.set(b);
        }
        if (ch.read(b) < 0) {
          break;
        }
      }
    } catch (IOException | UnsupportedOperationException e) {
      return null; // no /proc/locks (not Linux): nothing to check
    }
    return b.flip();
  }

  private static int indexOf(ByteBuffer b, byte[] token, int from) {
    outer:
    for (int i = from; i <= b.limit() - token.length; i++) {
      for (int k = 0; k < token.length; k++) {
        if (b.get(i + k) != token[k]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  /**
   * Takes the shared locks of a consistent reader that shares neither writes nor resizes on
   * {@code channel} (bytes 100, 201 and 203), held until the channel closes. A lock this process
   * already holds on the same file (another open of it) is fine.
   *
   * @throws ImageInUseException when another process holds a conflicting lock on those bytes
   */
  public static void hold(Path image, FileChannel channel) throws IOException {
    for (int b : new int[] {PERM_BASE + CONSISTENT_READ, SHARED_BASE + WRITE, SHARED_BASE + RESIZE}) {
      FileLock lock;
      try {
        lock = channel.tryLock(b, 1, true);
      } catch (OverlappingFileLockException e) {
        continue; // this process holds it already, through another channel
      } catch (IOException e) {
        return; // a file system without record locks (ENOLCK): QEMU cannot lock it either
      }
      if (lock == null) {
        throw new ImageInUseException(image, "another process holds QEMU's image lock on byte " + b
            + " exclusively: it is in use; back it up live through libvirt, or stop that process first");
      }
    }
  }

  /** A file's identity as {@code /proc/locks} prints it. */
  record FileId(long major, long minor, long inode) {
    static Optional<FileId> of(Path p) throws IOException {
      java.util.Map<String, Object> a;
      try {
        a = Files.readAttributes(p, "unix:dev,ino");
      } catch (UnsupportedOperationException | IllegalArgumentException e) {
        return Optional.empty();
      }
      long d = ((Number) a.get("dev")).longValue();
      // Linux's encoding of dev_t (glibc's gnu_dev_major / gnu_dev_minor)
      long major = ((d >>> 8) & 0xfff) | ((d >>> 32) & ~0xfffL);
      long minor = (d & 0xff) | ((d >>> 12) & ~0xffL);
      return Optional.of(new FileId(major, minor & 0xffffffffL, ((Number) a.get("ino")).longValue()));
    }
  }

  /** One line of {@code /proc/locks}. {@code last} is {@code Long.MAX_VALUE} for "EOF". */
  record HeldLock(String kind, long pid, FileId file, long first, long last) {
    boolean covers(long offset) {
      return first <= offset && offset <= last;
    }
  }

  /**
   * Parses {@code /proc/locks}: {@code ID: KIND ADVISORY|MANDATORY READ|WRITE PID MAJ:MIN:INODE
   * START END}, major and minor in hex, END a number or {@code EOF}; lines of blocked waiters
   * ({@code ID: -> ...}) and lines that do not parse are skipped.
   */
  static List<HeldLock> parse(List<String> lines) {
    List<HeldLock> locks = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.trim().split("\\s+");
      if (f.length < 8 || f[1].equals("->")) {
        continue;
      }
      try {
        String[] id = f[5].split(":");
        if (id.length != 3) {
          continue;
        }
        FileId file = new FileId(Long.parseLong(id[0], 16), Long.parseLong(id[1], 16), Long.parseLong(id[2]));
        long first = Long.parseLong(f[6]);
        long last = f[7].equals("EOF") ? Long.MAX_VALUE : Long.parseLong(f[7]);
        locks.add(new HeldLock(f[1], Long.parseLong(f[4]), file, first, last));
      } catch (NumberFormatException e) {
        // not a lock line this parser knows: skipped
      }
    }
    return locks;
  }
}
