package org.tidemark.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * An {@link ArchiveStore} in memory, written as an object store would work: an output collects its
 * bytes privately and commit is a put-if-absent ({@link ConcurrentSkipListMap#putIfAbsent}), or for
 * a replacement a replace-if-present ({@link ConcurrentSkipListMap#replace(Object, Object)}). For
 * tests: a second implementation of the contract that shares no code with {@link LocalStore}.
 */
public final class MemoryStore implements ArchiveStore {
  private final ConcurrentSkipListMap<String, byte[]> objects = new ConcurrentSkipListMap<>();

  @Override
  public List<String> list(String prefix) {
    StoreNames.checkPrefix(prefix);
    List<String> names = new ArrayList<>();
    for (String n : objects.tailMap(prefix).keySet()) {
      if (!n.startsWith(prefix)) {
        break;
      }
      if (n.indexOf('/', prefix.lastIndexOf('/') + 1) < 0) { // one level, like a delimiter listing
        names.add(n);
      }
    }
    return names;
  }

  @Override
  public boolean exists(String name) {
    return objects.containsKey(StoreNames.check(name));
  }

  @Override
  public StoreInput openInput(String name) throws IOException {
    byte[] data = objects.get(StoreNames.check(name));
    if (data == null) {
      throw new NoSuchFileException(locate(name).toString());
    }
    return input(locate(name), data);
  }

  private static StoreInput input(Path path, byte[] data) {
    return new StoreInput() {
      private volatile boolean open = true;

      @Override
      public Path path() {
        return path;
      }

      @Override
      public long size() {
        return data.length;
      }

      @Override
      public int read(ByteBuffer dst, long position) throws IOException {
        if (!open) {
          throw new ClosedChannelException();
        }
        if (position >= data.length) {
          return -1;
        }
        int n = (int) Math.min(dst.remaining(), data.length - position);
        dst.put(data, (int) position, n);
        return n;
      }

      @Override
      public void close() {
        open = false;
      }
    };
  }

  @Override
  public StoreOutput createOutput(String name) throws IOException {
    if (exists(name)) {
      throw new FileAlreadyExistsException(locate(name).toString());
    }
    return output(name, false);
  }

  @Override
  public StoreOutput replaceOutput(String name) throws IOException {
    if (!exists(name)) {
      throw new NoSuchFileException(locate(name).toString(), null, "nothing to replace");
    }
    return output(name, true);
  }

  private StoreOutput output(String name, boolean replace) {
    Path path = locate(name);
    return new StoreOutput() {
      private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
      private boolean done;
      private boolean finished;

      @Override
      public Path path() {
        return path;
      }

      @Override
      public int alignment() {
        return 1;
      }

      @Override
      public long position() {
        return bytes.size();
      }

      @Override
      public void write(ByteBuffer... parts) {
        check();
        if (finished) {
          throw new IllegalStateException(path + " is opened for reading: no more writes");
        }
        for (ByteBuffer p : parts) {
          byte[] b = new byte[p.remaining()];
          p.get(b);
          bytes.writeBytes(b);
        }
      }

      @Override
      public StoreInput openPending() {
        check();
        if (finished) {
          throw new IllegalStateException(path + " is already opened for reading");
        }
        finished = true;
        return input(path, bytes.toByteArray());
      }

      @Override
      public void commit() throws IOException {
        check();
        done = true;
        if (replace) {
          if (objects.replace(name, bytes.toByteArray()) == null) {
            throw new NoSuchFileException(path.toString(), null, "the object to replace is gone");
          }
        } else if (objects.putIfAbsent(name, bytes.toByteArray()) != null) {
          throw new FileAlreadyExistsException(path.toString(), null, "committed meanwhile");
        }
      }

      @Override
      public void close() {
        done = true;
      }

      private void check() {
        if (done) {
          throw new IllegalStateException(path + " is already committed or closed");
        }
      }
    };
  }

  @Override
  public boolean delete(String name) {
    return objects.remove(StoreNames.check(name)) != null;
  }

  @Override
  public List<Path> discardAbandoned(String prefix) {
    return List.of(); // an output lives only in its writer's memory: none survives its process
  }

  @Override
  public Path locate(String name) {
    return Path.of("memory:", StoreNames.check(name));
  }
}
