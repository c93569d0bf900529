package org.tidemark.qcow2;

import java.nio.file.Path;
import org.tidemark.disk.UnsupportedImageException;

/**
 * The backing file (or external data file) an image's header names lies outside what the {@link
 * BackingPolicy} allows: not in the top image's folder tree and not among the paths the caller
 * allowed. Not opened.
 */
public class BackingFileRefusedException extends UnsupportedImageException {
  private final Path backingFile;

  /** {@code image}'s header names {@code backingFile} (a backing or data file), which the policy does not allow. */
  public BackingFileRefusedException(Path image, Path backingFile, String message) {
    super(image, message);
    this.backingFile = backingFile;
  }

  /** The file refused, as the header names it, resolved against the image's folder. */
  public Path backingFile() {
    return backingFile;
  }
}
