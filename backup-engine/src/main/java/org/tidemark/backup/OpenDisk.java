package org.tidemark.backup;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Images;
import org.tidemark.disk.RawImage;
import org.tidemark.qcow2.Qcow2Image;
import org.tidemark.qcow2.UnsupportedImageException;

/**
 * A disk image opened for a backup: the bytes to copy and the facts the planner needs.
 *
 * @param source the guest bytes, allocation and dirty extents
 * @param facts the size and bitmap states
 */
public record OpenDisk(DiskSource source, DiskFacts facts) implements Closeable {
  /** Checks the fields. */
  public OpenDisk {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(facts, "facts");
  }

  /**
   * Opens a disk image read-only in the format the domain declares for it ({@code <driver
   * type>}): {@code qcow2} or {@code raw}. Without a declared format the file's first bytes decide
   * (qcow2's magic, else raw); a declared format is never second-guessed, so a raw disk whose guest
   * wrote qcow2's magic stays raw. A raw image has no bitmaps: every bitmap reads as missing.
   *
   * @throws UnsupportedImageException for another declared format, or a path that is not a regular
   *     file or block device (a FIFO, socket, character device or folder: never opened)
   * @throws IOException when the image cannot be opened or read
   */
  public static OpenDisk open(Path path, Optional<String> format) throws IOException {
    return open(path, format, org.tidemark.qcow2.BackingPolicy.sameTree());
  }

  /**
   * Opens a disk image as {@link #open(Path, Optional)} does, following the backing files {@code
   * policy} allows (a backup allows the chain the domain XML declares in {@code <backingStore>}).
   *
   * @throws org.tidemark.qcow2.BackingFileRefusedException when a backing file is one the policy refuses
   */
  public static OpenDisk open(Path path, Optional<String> format, org.tidemark.qcow2.BackingPolicy policy)
      throws IOException {
    DiskSource source;
    if (format.isEmpty()) {
      source = Images.open(path, policy);
    } else if (format.get().equals("qcow2")) {
      source = Qcow2Image.open(path, policy);
    } else if (format.get().equals("raw")) {
      source = RawImage.open(path);
    } else {
      throw new UnsupportedImageException(path, "the domain declares format '" + format.get()
          + "' (expected: qcow2 or raw)");
    }
    if (source instanceof Qcow2Image q) {
      return new OpenDisk(q, q);
    }
    return new OpenDisk(source, new DiskFacts() {
      @Override
      public long virtualSize() {
        return source.virtualSize();
      }

      @Override
      public BitmapState bitmap(String name) {
        return BitmapState.MISSING;
      }
    });
  }

  @Override
  public void close() throws IOException {
    source.close();
  }
}
