package org.tidemark.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * What a disk image may be before it is opened: a regular file or a block device (links followed),
 * not on a kernel pseudo file system. Opening a FIFO blocks until a writer comes; a character
 * device ({@code /dev/zero}) never ends; files of proc and sysfs claim a size of 0 (or any) and may
 * block on read ({@code /proc/kmsg}) or expose kernel memory ({@code /proc/kcore}). Checked without
 * opening the file.
 */
public final class ImageFiles {
  /** File system types whose files are kernel interfaces, not data (as /proc/mounts names them). */
  private static final Set<String> PSEUDO = Set.of("proc", "sysfs", "debugfs", "tracefs", "securityfs", "configfs",
      "cgroup", "cgroup2", "pstore", "bpf", "efivarfs", "fusectl", "binfmt_misc", "mqueue", "devpts");

  private ImageFiles() {}

  /**
   * Refuses {@code file} unless it is a regular file or a block device outside the kernel's pseudo
   * file systems.
   *
   * @param image the image the error is about (the top image, or {@code file} itself)
   * @param role what {@code file} is to it, for the message ("backing file", "image")
   * @throws UnsupportedImageException naming the file and what it is instead
   */
  public static void requireDiskFile(Path file, Path image, String role) throws IOException {
    Path real = file.toRealPath();
    // the message is about the image; a backing or data file is named in it too
    String subject = (file.equals(image) ? "" : role + " " + file + " ") + (real.equals(file) ? "" : "(" + real + ") ");
    String type = fileSystemType(real);
    if (PSEUDO.contains(type) || real.startsWith("/proc") || real.startsWith("/sys")) {
      throw new UnsupportedImageException(image, subject + "is on the kernel's "
          + (PSEUDO.contains(type) ? type : real.getName(0)) + " file system: not a disk image");
    }
    String kind = org.tidemark.internal.FileKinds.notRegular(real, true);
    if (kind != null) { // a FIFO (/dev/stdin) would block the open, a character device read for ever
      throw new UnsupportedImageException(image, subject + "is " + kind
          + ", not a regular file or a block device (a disk image is one of these)");
    }
  }

  /**
   * What {@code path} is when it is not a regular file (links followed): "a FIFO", "a socket", "a
   * character device", "a block device", "a directory" or "of another kind"; empty when it is a
   * regular file that may be opened without blocking. Reads the file's attributes only, never opens
   * it: for any file to be read whole (a checkpoint file given by a user, for one).
   *
   * @throws java.nio.file.NoSuchFileException when nothing is there (or a link leads nowhere)
   */
  public static Optional<String> notRegularFile(Path path) throws IOException {
    return Optional.ofNullable(org.tidemark.internal.FileKinds.notRegular(path, false));
  }

  private static String fileSystemType(Path real) {
    try {
      return Files.getFileStore(real).type();
    } catch (IOException e) {
      return "";
    }
  }
}
