package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.ImageException;
import org.tidemark.disk.ImageFiles;
import org.tidemark.disk.ImageFormats;
import org.tidemark.disk.UnsupportedImageException;

/**
 * The files an image's header names besides itself: its backing file (qcow2 or raw, opened as the
 * next layer of the chain) and its external data file. Names are taken relative to the image's
 * folder unless absolute; only local files, allowed by the {@link BackingPolicy} (the top image's
 * folder tree, or paths the caller allows) and regular files or block devices outside the kernel's
 * pseudo file systems ({@link ImageFiles}), are opened.
 */
final class BackingFiles {
  private BackingFiles() {}

  /** A file the header of {@code image} names, relative to the image's folder unless absolute; only local files. */
  static Path resolve(Path image, String name, String what) throws ImageException {
    if (name.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) { // json:, nbd:, http://, ...
      throw new UnsupportedImageException(image, what + " '" + name + "' is not a local file");
    }
    Path named;
    try {
      named = Path.of(name);
    } catch (java.nio.file.InvalidPathException e) {
      throw new CorruptImageException(image, what + " name is not a path: " + e.getReason() + " ("
          + name.length() + " characters)");
    }
    return named.isAbsolute() ? named : image.toAbsolutePath().getParent().resolve(named);
  }

  /**
   * Opens the backing file {@code image}'s header names (qcow2 or raw), below it in the chain, when
   * the policy allows it ({@code root}: the top image's folder) and it is a regular file or a block
   * device outside the kernel's pseudo file systems.
   *
   * @param format the backing format extension's text; null: probed from the file's first bytes
   * @param chain the real paths of the layers above, {@code image}'s last
   */
  static DiskSource openBacking(Path image, String backingName, String format, List<Path> chain, BackingPolicy policy,
      Path root) throws IOException {
    Path file = resolve(image, backingName, "backing file");
    if (!Files.exists(file)) {
      throw new CorruptImageException(image, "backing file " + file + " (header: '" + backingName + "') does not exist");
    }
    Path real = file.toRealPath();
    if (!policy.permits(root, real)) {
      throw new BackingFileRefusedException(image, file, "backing file " + file + (real.equals(file) ? "" : " (" + real + ")")
          + " (header: '" + backingName + "') lies outside " + root + ", the top image's folder, and is not among the"
          + " paths allowed: not followed (a backing file elsewhere is followed only when the domain XML declares it"
          + " in <backingStore>, or the caller allows it)");
    }
    ImageFiles.requireDiskFile(file, image, "backing file");
    String fmt = format != null ? format : probe(file);
    return switch (fmt) {
      case "qcow2" -> Qcow2Image.openLayer(file, chain, policy, root);
      case "raw" -> org.tidemark.disk.RawImage.open(file);
      default -> throw new UnsupportedImageException(image, "backing file " + file + " has format '" + fmt + "' (expected qcow2 or raw)");
    };
  }

  /**
   * Opens the external data file {@code image}'s header names (resolved as {@code dataPath}), under
   * the same rules as a backing file.
   */
  static FileChannel openDataFile(Path image, String dataFileName, Path dataPath, BackingPolicy policy, Path root)
      throws IOException {
    if (!Files.exists(dataPath)) {
      throw new CorruptImageException(image, "external data file " + dataPath + " (header extension 0x44415441: '"
          + dataFileName + "') does not exist");
    }
    Path real = dataPath.toRealPath();
    if (!policy.permits(root, real)) {
      throw new BackingFileRefusedException(image, dataPath, "external data file " + dataPath
          + (real.equals(dataPath) ? "" : " (" + real + ")") + " (header extension 0x44415441: '" + dataFileName
          + "') lies outside " + root + ", the top image's folder, and is not among the paths allowed: not read"
          + " (a data file elsewhere is read only when the caller allows it)");
    }
    ImageFiles.requireDiskFile(dataPath, image, "external data file");
    return FileChannel.open(dataPath, StandardOpenOption.READ);
  }

  private static String probe(Path file) {
    try {
      if (Files.size(file) < 4) { // nothing to probe: a file that claims no bytes is not read
        return ImageFormats.RAW;
      }
      return ImageFormats.probe(file);
    } catch (IOException e) {
      return ImageFormats.RAW;
    }
  }
}
