package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which backing files (and external data files) an image's header may lead the reader to. A qcow2 header can name any path
 * ({@code /etc/shadow}, another tenant's disk); followed blindly, an uploaded or guest-writable
 * image would copy that file into a backup. libvirt does not trust the header alone either: it
 * follows the chain its domain XML declares in {@code <backingStore>}.
 *
 * <p>The rule: a backing file (links followed, for every layer of the chain) is opened only when it
 * lies in the folder of the top image or below it, or is one of the paths the caller allows (a
 * file, or a folder and everything under it; a backup allows the {@code <backingStore>} sources of
 * the domain XML). Anything else is refused with a {@link BackingFileRefusedException} naming the
 * file and how to allow it. Whatever the policy, a backing file must also be a regular file or a
 * block device outside the kernel's pseudo file systems ({@link org.tidemark.disk.ImageFiles}).
 * Immutable.
 */
public final class BackingPolicy {
  private static final BackingPolicy SAME_TREE = new BackingPolicy(List.of());

  private final List<Path> allowed;

  private BackingPolicy(List<Path> allowed) {
    this.allowed = allowed;
  }

  /** The default: backing files in the top image's folder or below it. */
  public static BackingPolicy sameTree() {
    return SAME_TREE;
  }

  /**
   * The top image's folder tree, and these paths: files, or folders with everything under them.
   * Paths that do not exist allow nothing.
   */
  public static BackingPolicy allowing(Collection<Path> paths) {
    List<Path> real = new ArrayList<>();
    for (Path p : paths) {
      try {
        real.add(p.toRealPath());
      } catch (IOException e) {
        // allows nothing: a backing file at that path does not exist either
      }
    }
    return new BackingPolicy(List.copyOf(real));
  }

  /** The paths allowed besides the top image's folder tree (real paths). */
  public List<Path> allowed() {
    return allowed;
  }

  /** Whether {@code backingReal} (a real path) may be opened below a top image in folder {@code topFolder} (real). */
  boolean permits(Path topFolder, Path backingReal) {
    if (backingReal.startsWith(topFolder)) {
      return true;
    }
    for (Path a : allowed) {
      if (backingReal.equals(a) || (Files.isDirectory(a) && backingReal.startsWith(a))) {
        return true;
      }
    }
    return false;
  }
}
