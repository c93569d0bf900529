package org.tidemark.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.EarlyWriteback;
import org.tidemark.internal.FileKinds;

/**
 * An {@link ArchiveStore} on a file system: name {@code A/B.tar} is the file {@code ROOT/A/B.tar}.
 * Any NIO file system works (the default one, a zip file system, an in-memory one); the speed
 * measures below apply where the file system supports them and fall away silently elsewhere.
 *
 * <p><b>Writing.</b> A pending output is a hidden file beside its target ({@code .NAME.tmp-RANDOM},
 * {@link Publish#tempFor}), written with {@link DirectWrites} (aligned writes around the page
 * cache where the file system takes {@code O_DIRECT}) and {@link EarlyWriteback} (what goes through
 * the page cache is sent to the device every few tens of MiB, so the final force waits for little).
 * Folders are created on demand. Ctrl-C deletes pending outputs ({@link Publish#discardPending}).
 *
 * <p><b>Commit</b> forces the file, then publishes it without replacing ({@link Publish#publish}):
 * a hard link to the final name (the kernel refuses it when the name exists), or, where the file
 * system has no hard links, the final name is first created empty with an exclusive create (which
 * fails when it exists) and the pending file moved over that placeholder with an atomic rename.
 * Either way an existing archive is never replaced, and the folder is forced afterwards. The
 * second protocol has one weaker point: between the exclusive create and the rename, readers see
 * an empty file under the name (which no reader takes for an archive: it has no seal), and a crash
 * there leaves that empty file. A file system with neither gives {@link
 * CommitUnsupportedException}.
 *
 * <p><b>Replace</b> ({@link #replaceOutput}): the pending file is forced, then renamed over the
 * existing file of the name ({@code rename(2)}, which replaces atomically: a reader opening the
 * name gets the old file or the new one, and one that had the old file open goes on reading it),
 * and the folder is forced. A crash leaves the old file or the new one under the name, and at most
 * the hidden temporary file, which {@link #discardAbandoned} removes.
 *
 * <p><b>Reading.</b> Only regular files are opened (links followed): a FIFO, device, socket or
 * folder under an archive name is refused without being opened, as opening a FIFO blocks.
 *
 * <p><b>Listing</b> is one level, like an object store listing with a {@code /} delimiter: {@link
 * #list} gives every entry of the folder that is not hidden, whatever its kind (a folder named like
 * an archive is listed, and refused by {@link #openInput}).
 *
 * <p>Thread-safe, as the file system is.
 */
public final class LocalStore implements ArchiveStore {
  private final Path root;
  private final boolean directWrites;

  private LocalStore(Path root, boolean directWrites) {
    this.root = root;
    this.directWrites = directWrites;
  }

  /**
   * The store rooted at {@code root} (created on the first output if it does not exist), writing
   * around the page cache where the file system allows it.
   */
  public static LocalStore at(Path root) {
    return new LocalStore(root, true);
  }

  /** This store, writing its outputs around the page cache ({@code true}) or through it. */
  public LocalStore withDirectWrites(boolean direct) {
    return new LocalStore(root, direct);
  }

  /** The root folder. */
  public Path root() {
    return root;
  }

  @Override
  public Path locate(String name) {
    return root.resolve(StoreNames.check(name));
  }

  /**
   * The names directly in folder {@code prefix} (empty, or ending with {@code /}) whose file names
   * start with nothing more: every entry that is not hidden, sorted. An absent folder lists nothing.
   */
  @Override
  public List<String> list(String prefix) throws IOException {
    StoreNames.checkPrefix(prefix);
    int slash = prefix.lastIndexOf('/');
    String folder = prefix.substring(0, slash + 1);
    String start = prefix.substring(slash + 1);
    Path dir = folder.isEmpty() ? root : root.resolve(folder);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".") && n.startsWith(start))
          .map(n -> folder + n).sorted().toList();
    }
  }

  @Override
  public boolean exists(String name) {
    return Files.exists(locate(name));
  }

  /**
   * Opens the regular file {@code ROOT/NAME} (links followed).
   *
   * @throws FileSystemException naming the path when it is not a regular file (it is not opened: a
   *     FIFO would block the open, a character device read without end)
   * @throws NoSuchFileException when there is nothing there
   */
  @Override
  public StoreInput openInput(String name) throws IOException {
    Path path = locate(name);
    String kind = FileKinds.notRegular(path, false);
    if (kind != null) {
      throw new FileSystemException(path.toString(), null, "is " + kind + ", not a regular file (not opened)");
    }
    return openFile(path);
  }

  /**
   * Opens {@code path}, of any file system, as a store input, whatever kind of file it is (a caller
   * that may meet a FIFO checks first).
   *
   * @throws NoSuchFileException when there is nothing there
   */
  public static StoreInput openFile(Path path) throws IOException {
    return new FileInput(path, FileChannel.open(path, StandardOpenOption.READ));
  }

  @Override
  public StoreOutput createOutput(String name) throws IOException {
    Path target = locate(name);
    Files.createDirectories(target.getParent());
    return createFile(target, directWrites);
  }

  /**
   * A pending output to be committed as {@code target}, whose folder exists, whatever store it is in.
   *
   * Written around the page cache where the file system allows it when {@code direct}.
   *
   * @throws FileAlreadyExistsException when {@code target} exists
   */
  public static StoreOutput createFile(Path target, boolean direct) throws IOException {
    if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists already");
    }
    return open(target, false, direct);
  }

  /**
   * A pending output that replaces the file {@code ROOT/NAME} when committed: the pending file is
   * renamed over it.
   *
   * @throws NoSuchFileException when there is no such file
   */
  @Override
  public StoreOutput replaceOutput(String name) throws IOException {
    Path target = locate(name);
    if (!Files.exists(target)) {
      throw new NoSuchFileException(target.toString(), null, "nothing to replace");
    }
    return open(target, true, directWrites);
  }

  /** The pending file beside {@code target}, open for writing. */
  private static StoreOutput open(Path target, boolean replace, boolean direct) throws IOException {
    Path temp = Publish.tempFor(target);
    FileChannel channel;
    try {
      channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException | RuntimeException e) {
      Publish.discard(temp);
      throw e;
    }
    try {
      return new FileOutput(target, temp, channel, DirectWrites.open(temp, channel, new EarlyWriteback(channel), direct),
          replace);
    } catch (RuntimeException e) {
      Publish.closeAndDiscard(channel, temp);
      throw e;
    }
  }

  @Override
  public boolean delete(String name) throws IOException {
    return Files.deleteIfExists(locate(name));
  }

  /** Deletes the hidden temporary files ({@code .NAME.tmp-*}) of folder {@code prefix} that no output of this JVM holds. */
  @Override
  public List<Path> discardAbandoned(String prefix) throws IOException {
    StoreNames.checkPrefix(prefix);
    String folder = prefix.substring(0, prefix.lastIndexOf('/') + 1);
    String start = prefix.substring(prefix.lastIndexOf('/') + 1);
    Path dir = folder.isEmpty() ? root : root.resolve(folder);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Path> removed = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith(Publish.TEMP_PREFIX + start) && n.contains(Publish.TEMP_INFIX) && !Publish.isPending(p)) {
          Files.deleteIfExists(p);
          removed.add(p);
        }
      }
    }
    return removed;
  }

  @Override
  public String toString() {
    return "local store at " + root;
  }

  /** A file open for positional reads. */
  private static final class FileInput implements StoreInput {
    private final Path path;
    private final FileChannel channel;

    FileInput(Path path, FileChannel channel) {
      this.path = path;
      this.channel = channel;
    }

    @Override
    public Path path() {
      return path;
    }

    @Override
    public long size() throws IOException {
      return channel.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return channel.read(dst, position);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /** A hidden temporary file beside the target, written sequentially. */
  private static final class FileOutput implements StoreOutput {
    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final DirectWrites directWrites;
    private final boolean replace;
    private long position;
    private boolean done;
    /** Whether the writes are over and the file forced and closed ({@link #openPending}). */
    private boolean finished;

    FileOutput(Path target, Path temp, FileChannel channel, DirectWrites directWrites, boolean replace) {
      this.target = target;
      this.temp = temp;
      this.channel = channel;
      this.directWrites = directWrites;
      this.replace = replace;
    }

    @Override
    public Path path() {
      return target;
    }

    @Override
    public int alignment() {
      return directWrites.isDirect() ? directWrites.alignment() : 1;
    }

    @Override
    public long position() {
      return position;
    }

    @Override
    public void write(ByteBuffer... parts) throws IOException {
      ensureOpen();
      if (finished) {
        throw new IllegalStateException("output " + target + " is opened for reading: no more writes");
      }
      long n = 0;
      for (ByteBuffer p : parts) {
        n += p.remaining();
      }
      if (parts.length == 1) {
        directWrites.write(position, parts[0]);
      } else {
        directWrites.write(position, parts);
      }
      position += n;
    }

    @Override
    public StoreInput openPending() throws IOException {
      ensureOpen();
      if (finished) {
        throw new IllegalStateException("output " + target + " is already opened for reading");
      }
      finishWrites();
      return openFile(temp);
    }

    @Override
    public void commit() throws IOException {
      ensureOpen();
      try {
        if (!finished) {
          finishWrites();
        }
        done = true;
        if (replace && !Files.exists(target)) {
          throw new NoSuchFileException(target.toString(), null, "the file to replace is gone");
        }
        Publish.publish(temp, target, replace);
      } catch (IOException | RuntimeException e) {
        done = true;
        Publish.closeAndDiscard(channel, temp);
        throw e;
      }
    }

    /** Ends the writes: the file complete and forced under its temporary name, its channel closed. */
    private void finishWrites() throws IOException {
      finished = true;
      try {
        Publish.finish(directWrites, channel);
      } catch (IOException | RuntimeException e) {
        done = true;
        Publish.closeAndDiscard(channel, temp);
        throw e;
      }
    }

    @Override
    public void close() throws IOException {
      if (done) {
        return;
      }
      done = true;
      if (finished) {
        Publish.discard(temp);
      } else {
        Publish.abandon(directWrites, channel, temp);
      }
    }

    private void ensureOpen() {
      if (done) {
        throw new IllegalStateException("output " + target + " is already committed or closed");
      }
    }
  }
}
