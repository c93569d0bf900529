package org.tidemark.archive;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.tidemark.internal.FileKinds;
import org.tidemark.store.ArchiveStore;
import org.tidemark.store.LocalStore;

/**
 * A directory of backup archives: one folder per domain, one archive per backup, named after the
 * checkpoint it saved ({@code ROOT/DOMAIN/CHECKPOINT.tar}).
 *
 * <p>Domain and checkpoint names are written into file names by {@link #fileName}: libvirt allows
 * any domain name without a newline ({@code a/b}, {@code .hidden}, {@code ..}), so {@code %},
 * {@code /}, control characters and a leading {@code .} are written as {@code %XX} (their
 * code in hexadecimal: {@code a%2Fb}, {@code %2Ehidden}). Every other name is its own file name.
 * The encoding is reversible ({@link #nameOf}) and no two names share a file name.
 *
 * <p>There is no index file to go stale: every listing reads the archives themselves (their tar
 * headers and metadata entries, not their data). Hidden temporary files left by a writer that was
 * killed ({@code .NAME.tmp-*}) are never listed and are removed by {@link #removeLeftovers}. An
 * archive that cannot be opened is reported by {@link #scan} instead of being listed.
 *
 * <p>Only regular files are opened: an archive name that is a FIFO, device, socket or folder is
 * reported unreadable by {@link #scan} without being opened (a FIFO would block the open forever).
 *
 * <p>The archives are read, listed and cleaned up through a {@link LocalStore} ({@link #store}), the
 * seam an object store would implement; the writer lock ({@link RepositoryLock}) is a file of the
 * local folder and stays outside the seam (an object store needs its own, see {@link ArchiveStore}).
 *
 * <p>Thread-safe as far as the file system is: the class holds no mutable state (but a count of
 * archives opened, for tests).
 */
public final class Repository {
  /** The file-name suffix of archives. */
  public static final String SUFFIX = ".tar";

  /** Archives opened by {@link #open}, in this JVM (for {@link #opens}). */
  private static final LongAdder OPENS = new LongAdder();

  private final Path root;
  private final LocalStore store;

  private Repository(Path root) {
    this.root = root;
    this.store = LocalStore.at(root);
  }

  /** A repository rooted at {@code root} (created on the first backup if it does not exist). */
  public static Repository at(Path root) {
    return new Repository(root);
  }

  /** The repository's root directory. */
  public Path root() {
    return root;
  }

  /**
   * The store the archives are in: archive {@code ROOT/DOMAIN/CHECKPOINT.tar} is its object {@code
   * DOMAIN/CHECKPOINT.tar} (both names as {@link #fileName} writes them).
   */
  public ArchiveStore store() {
    return store;
  }

  /** The result of reading a domain's folder: the archives that open, and those that do not. */
  public record Scan(List<StoredBackup> backups, List<Finding> unreadable) {
    /** Freezes the lists. */
    public Scan {
      backups = List.copyOf(backups);
      unreadable = List.copyOf(unreadable);
    }
  }

  /**
   * The domains that have a folder, sorted by name. A folder whose name is not what {@link
   * #fileName} writes for some name (a hidden one, or one with a stray {@code %}) is no domain's.
   */
  public List<String> domains() throws IOException {
    if (!Files.isDirectory(root)) {
      throw new NoSuchFileException(root.toString(), null, "no such repository directory");
    }
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory).map(p -> nameOf(p.getFileName().toString())).flatMap(Optional::stream)
          .sorted().toList();
    }
  }

  /**
   * Reads every archive of a domain, oldest backup first.
   *
   * @throws NoSuchFileException when the repository does not exist
   */
  public Scan scan(String domain) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new NoSuchFileException(root.toString(), null, "no such repository directory");
    }
    Path dir = domainDir(domain);
    List<StoredBackup> backups = new ArrayList<>();
    List<Finding> unreadable = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return new Scan(backups, unreadable);
    }
    List<String> names = store.list(fileName(domain) + "/").stream().filter(Repository::isArchiveName).toList();
    for (String name : names) {
      Path p = store.locate(name);
      try (ArchiveReader r = open(name)) {
        backups.add(new StoredBackup(p, r.manifest(), r.size()));
      } catch (ArchiveException e) {
        unreadable.add(Finding.of(e));
      }
    }
    // oldest first, to the nanosecond where the archives say (format version 3); at the same
    // moment (archives of whole seconds), a backup after the one it is incremental on
    Map<String, Integer> depth = depths(backups);
    backups.sort(Comparator.comparing((StoredBackup b) -> b.manifest().createdAt())
        .thenComparing(b -> depth.get(b.id())).thenComparing(StoredBackup::id));
    return new Scan(backups, unreadable);
  }

  /**
   * Opens an archive of the folder, when it is a regular file (links followed): a FIFO would
   * block the open until a writer comes, a character device read without end.
   *
   * @throws ArchiveCorruptException when it is not a regular file (it is not opened)
   */
  private ArchiveReader open(String name) throws IOException {
    Path p = store.locate(name);
    String kind = FileKinds.notRegular(p, false);
    if (kind != null) {
      throw new ArchiveCorruptException(p, "is " + kind + ", not a regular file (not opened: reading it could block"
          + " or never end)");
    }
    OPENS.increment();
    return ArchiveReader.open(store, name);
  }

  /** How many archives {@link #open} has opened in this JVM: tests count the work of a scan with it. */
  static long opens() {
    return OPENS.sum();
  }

  /**
   * How many ancestors each backup has in the folder, each backup visited once: a backup whose
   * parents lead into a cycle counts {@code backups.size() + 1} (more than any chain can have).
   */
  private static Map<String, Integer> depths(List<StoredBackup> backups) {
    Map<String, StoredBackup> byId = new HashMap<>();
    backups.forEach(b -> byId.put(b.id(), b));
    int cycle = backups.size() + 1;
    Map<String, Integer> depth = new HashMap<>();
    Set<String> onPath = new HashSet<>();
    List<StoredBackup> path = new ArrayList<>();
    for (StoredBackup start : backups) {
      StoredBackup cur = start;
      int base;
      while (true) {
        if (depth.containsKey(cur.id())) {
          base = depth.get(cur.id());
          break;
        }
        if (!onPath.add(cur.id())) {
          base = cycle; // cur is on the path already: every backup of the path leads into a cycle
          break;
        }
        path.add(cur);
        Optional<ParentRef> p = cur.manifest().parent();
        StoredBackup parent = p.isEmpty() ? null : byId.get(p.get().archive());
        if (parent == null) {
          base = -1;
          break;
        }
        cur = parent;
      }
      for (int k = path.size() - 1; k >= 0; k--) {
        base = base == cycle ? cycle : base + 1;
        depth.put(path.get(k).id(), base);
      }
      path.clear();
      onPath.clear();
    }
    return depth;
  }

  /**
   * The backup of the named checkpoint, if the domain has a readable one. The archive of that name
   * ({@code CHECKPOINT.tar}) is opened alone, so the cost does not grow with the number of backups;
   * only when it is missing, unreadable or saves another checkpoint (a renamed file) is the whole
   * folder read.
   */
  public Optional<StoredBackup> backupOf(String domain, String checkpoint) throws IOException {
    if (!checkpoint.isEmpty()) {
      String name = archiveName(domain, checkpoint);
      Path p = store.locate(name);
      if (Files.isRegularFile(p)) {
        try (ArchiveReader r = open(name)) {
          if (r.manifest().checkpoint().equals(checkpoint) && r.manifest().domain().equals(domain)) {
            return Optional.of(new StoredBackup(p, r.manifest(), r.size()));
          }
        } catch (ArchiveException e) {
          // read with the others below: a renamed archive may save this checkpoint
        }
      }
    }
    return scan(domain).backups().stream().filter(b -> b.checkpoint().equals(checkpoint)).findFirst();
  }

  /**
   * The chain a restore of {@code checkpoint} needs, newest first: its backup, then its parents,
   * until every disk of the newest backup has a full copy. The links of the chain are checked
   * ({@link ArchiveConsistency#checkChain}: each parent the one named, of the same domain, holding
   * each incremental disk at the same size).
   *
   * <p>Without a checkpoint the point is the newest backup of the domain, and only that one: when
   * the newest archive cannot be read, this fails (naming it and the points that can be restored
   * instead) rather than fall back to an older point. An archive that cannot be read has no
   * creation time; it counts as the newest when its file was last modified at or after the
   * creation time (whole seconds) of the newest backup that can be read, a tie counting against
   * the readable one.
   *
   * @param checkpoint the checkpoint to restore; empty for the newest backup
   * @throws ArchiveException when there is no such backup
   * @throws ArchiveCorruptException when the newest archive (without a checkpoint) cannot be read,
   *     or a parent is missing or unreadable
   * @throws ArchiveInconsistentException when the links of the chain contradict each other
   */
  public List<StoredBackup> chain(String domain, Optional<String> checkpoint) throws IOException {
    return chains(domain).chain(checkpoint);
  }

  /**
   * Reads every archive of a domain once ({@link #scan}) and resolves the chains of its backups
   * from that one reading: for a caller that needs several chains (verify checks every backup's),
   * so that the archives are not read again for each.
   *
   * @throws NoSuchFileException when the repository does not exist
   */
  public Chains chains(String domain) throws IOException {
    return new Chains(domainDir(domain), domain, scan(domain));
  }

  /**
   * Where a new backup of {@code checkpoint} goes, creating the domain folder.
   *
   * @throws FileAlreadyExistsException when the repository already holds a backup of that checkpoint
   * @throws IllegalArgumentException when a name is empty
   */
  public Path newArchivePath(String domain, String checkpoint) throws IOException {
    requireName("checkpoint", checkpoint);
    Path dir = domainDir(domain);
    Files.createDirectories(dir);
    Path p = dir.resolve(fileName(checkpoint) + SUFFIX);
    if (Files.exists(p)) {
      throw new FileAlreadyExistsException(p.toString(), null, "the repository already holds a backup of checkpoint '" + checkpoint + "'");
    }
    return p;
  }

  /**
   * Locks a domain's folder for a writer ({@link RepositoryLock}): a backup, prune or
   * consolidation of the domain holds it from its first look at the folder to its last change.
   *
   * @param operation what the holder does, for the message a refused run prints
   * @param wait how long to wait for another holder; {@link java.time.Duration#ZERO} refuses at once
   * @throws RepositoryLockedException when another run still holds it after {@code wait}
   */
  public RepositoryLock lock(String domain, String operation, java.time.Duration wait) throws IOException {
    return RepositoryLock.acquire(domainDir(domain), domain, operation, wait);
  }

  /**
   * Deletes the temporary files that killed writers left in a domain's folder. Call it only while
   * holding the domain's {@link #lock}: a live writer's temporary file is not a leftover, and only
   * the lock tells the two apart.
   *
   * @return the files removed
   */
  public List<Path> removeLeftovers(String domain) throws IOException {
    requireName("domain", domain);
    return store.discardAbandoned(fileName(domain) + "/");
  }

  /**
   * The store name of the archive of {@code checkpoint}: {@code DOMAIN/CHECKPOINT.tar}, both as
   * {@link #fileName} writes them.
   *
   * @throws IllegalArgumentException when a name is empty
   */
  public static String archiveName(String domain, String checkpoint) {
    requireName("domain", domain);
    requireName("checkpoint", checkpoint);
    return fileName(domain) + "/" + fileName(checkpoint) + SUFFIX;
  }

  /**
   * The folder of a domain: {@code ROOT/}{@link #fileName}{@code (domain)}.
   *
   * @throws IllegalArgumentException when the name is empty
   */
  public Path domainDir(String domain) {
    requireName("domain", domain);
    return root.resolve(fileName(domain));
  }

  /**
   * A domain or checkpoint name as a file name: {@code %}, {@code /}, the control characters
   * U+0000–U+001F and U+007F, and a leading {@code .} as {@code %XX} (upper-case hexadecimal);
   * every other character as it is. Reversed by {@link #nameOf}; distinct names give distinct
   * file names, none of them hidden, none {@code .} or {@code ..}.
   */
  public static String fileName(String name) {
    StringBuilder b = null;
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean escape = c == '%' || c == '/' || c < 0x20 || c == 0x7f || i == 0 && c == '.';
      if (escape && b == null) {
        b = new StringBuilder(name.length() + 8).append(name, 0, i);
      }
      if (escape) {
        b.append('%').append(HEX[c >> 4]).append(HEX[c & 0xf]);
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? name : b.toString();
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /**
   * The name a file name stands for: the reverse of {@link #fileName}; empty when the file name is
   * not what {@link #fileName} writes for any name (hidden, a stray {@code %}, an escape of a
   * character it writes as it is).
   */
  public static Optional<String> nameOf(String fileName) {
    if (fileName.isEmpty() || fileName.startsWith(".")) {
      return Optional.empty();
    }
    StringBuilder b = new StringBuilder(fileName.length());
    for (int i = 0; i < fileName.length(); i++) {
      char c = fileName.charAt(i);
      if (c != '%') {
        b.append(c);
        continue;
      }
      if (i + 2 >= fileName.length()) {
        return Optional.empty();
      }
      int hi = Character.digit(fileName.charAt(i + 1), 16);
      int lo = Character.digit(fileName.charAt(i + 2), 16);
      if (hi < 0 || lo < 0) {
        return Optional.empty();
      }
      b.append((char) (hi << 4 | lo));
      i += 2;
    }
    String name = b.toString();
    return fileName(name).equals(fileName) ? Optional.of(name) : Optional.empty();
  }

  private static boolean isArchiveName(String name) {
    String n = name.substring(name.lastIndexOf('/') + 1);
    return n.endsWith(SUFFIX) && !n.startsWith(".");
  }

  private static void requireName(String what, String name) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException(what + " name is empty");
    }
  }
}
