package org.tidemark.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Optional;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.ImageFiles;
import org.tidemark.disk.ImageFormats;
import org.tidemark.disk.RawImage;
import org.tidemark.disk.UnsupportedImageException;
import org.tidemark.qcow2.BackingPolicy;
import org.tidemark.qcow2.Qcow2Image;

/**
 * Opens a disk image file read-only as a {@link DiskSource}, whatever its format: the one opener
 * that picks the reader. A declared format ({@code <driver type>}: {@code qcow2} or {@code raw}) is
 * never second-guessed; without one the file's first bytes decide ({@link ImageFormats#probe}).
 */
public final class Images {
  private Images() {}

  /** Opens {@code path} read-only by its first bytes, backing files in its folder tree only. */
  public static DiskSource open(Path path) throws IOException {
    return open(path, BackingPolicy.sameTree());
  }

  /** Opens {@code path} read-only by its first bytes, following the backing files {@code policy} allows. */
  public static DiskSource open(Path path, BackingPolicy policy) throws IOException {
    return open(path, Optional.empty(), policy);
  }

  /**
   * Opens a disk image read-only in the format the domain declares for it ({@code <driver
   * type>}): {@code qcow2} or {@code raw}, backing files in its folder tree only.
   *
   * @see #open(Path, Optional, BackingPolicy)
   */
  public static DiskSource open(Path path, Optional<String> format) throws IOException {
    return open(path, format, BackingPolicy.sameTree());
  }

  /**
   * Opens a disk image read-only in the format the domain declares for it ({@code <driver
   * type>}): {@code qcow2} or {@code raw}. Without a declared format the file's first bytes decide
   * (qcow2's magic, else raw); a declared format is never second-guessed, so a raw disk whose guest
   * wrote qcow2's magic stays raw. A raw image has no bitmaps: every bitmap reads as missing. The
   * backing files followed are those {@code policy} allows (a backup allows the chain the domain XML
   * declares in {@code <backingStore>}).
   *
   * @throws UnsupportedImageException for another declared format, or a path that is not a regular
   *     file or block device (a FIFO, socket, character device or folder: never opened)
   * @throws org.tidemark.qcow2.BackingFileRefusedException when a backing file is one the policy
   *     refuses
   * @throws IOException when the image cannot be opened or read
   */
  public static DiskSource open(Path path, Optional<String> format, BackingPolicy policy) throws IOException {
    String fmt;
    if (format.isPresent()) {
      fmt = format.get();
    } else {
      ImageFiles.requireDiskFile(path, path, "image"); // before its first bytes are read: a FIFO would block
      fmt = ImageFormats.probe(path);
    }
    return switch (fmt) {
      case ImageFormats.QCOW2 -> Qcow2Image.open(path, policy);
      case ImageFormats.RAW -> RawImage.open(path);
      default -> throw new UnsupportedImageException(path, "the domain declares format '" + fmt
          + "' (expected: qcow2 or raw)");
    };
  }

  /**
   * The first guest offset where two sources differ, or -1 when they are identical (same size,
   * same bytes). Reads both in 4 MiB steps.
   */
  public static long firstDifference(DiskSource a, DiskSource b) throws IOException {
    if (a.virtualSize() != b.virtualSize()) {
      return Math.min(a.virtualSize(), b.virtualSize());
    }
    int step = 4 << 20;
    ByteBuffer x = ByteBuffer.allocate(step);
    ByteBuffer y = ByteBuffer.allocate(step);
    for (long off = 0; off < a.virtualSize(); off += step) {
      int n = (int) Math.min(step, a.virtualSize() - off);
      x.clear().limit(n);
      y.clear().limit(n);
      a.readFully(off, x);
      b.readFully(off, y);
      int m = x.flip().mismatch(y.flip());
      if (m >= 0) {
        return off + m;
      }
    }
    return -1;
  }
}
