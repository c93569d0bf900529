package org.tidemark.restore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.qcow2.Qcow2ImageWriter;

/**
 * The format a restore writes disk images in. Each restored disk is named {@code DISK.EXT} with the
 * format's {@link #extension()}.
 */
public enum ImageFormat {
  /** A sparse raw file of the virtual size; ranges that read as zeros are holes ({@code DISK.raw}). */
  RAW("raw"),
  /**
   * A thin qcow2 v3 image written by Tidemark itself, no QEMU needed ({@code DISK.qcow2}): 64 KiB
   * clusters, 16-bit refcounts, no backing file; zeros stay unallocated. See {@link
   * Qcow2ImageWriter} and {@code docs/qcow2.md}, "What Tidemark writes".
   */
  QCOW2("qcow2");

  private final String name;

  ImageFormat(String name) {
    this.name = name;
  }

  /** The format's name as {@code qemu-img} spells it, also the file extension: {@code raw}, {@code qcow2}. */
  public String extension() {
    return name;
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * The format named {@code name} ({@code raw} or {@code qcow2}, any case).
   *
   * @throws IllegalArgumentException for any other name
   */
  public static ImageFormat parse(String name) {
    for (ImageFormat f : values()) {
      if (f.name.equals(name.toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new IllegalArgumentException("unknown image format '" + name + "' (expected one of "
        + Arrays.stream(values()).map(ImageFormat::extension).toList() + ")");
  }

  /** The file a disk is restored to in this format: {@code DIRECTORY/DISK.EXT}. */
  public Path imagePath(Path directory, String disk) {
    return directory.resolve(disk + "." + name);
  }

  /**
   * At most the bytes an image of this format takes on disk for a disk of {@code virtualSize}
   * bytes of which {@code dataBytes} are written as data: raw, the data (ranges that read as zeros
   * are holes; all-zero data blocks too); qcow2, the data and its metadata (header, L1 table, an L2
   * table per 512 MiB of guest, refcounts), see {@link Qcow2ImageWriter}.
   */
  public long bytesOnDisk(long virtualSize, long dataBytes) {
    return switch (this) {
      case RAW -> dataBytes;
      case QCOW2 -> {
        long c = Qcow2ImageWriter.CLUSTER_SIZE;
        long regions = ceil(virtualSize, c * (c / 8)); // one L2 table per region that holds data
        long l1 = ceil(regions * 8, c);
        long clusters = 1 + l1 + ceil(dataBytes, c) + regions;
        long refcounts = ceil(clusters * 2, c) + 1; // the blocks and the table
        yield dataBytes + (1 + l1 + regions + refcounts + 1) * c;
      }
    };
  }

  private static long ceil(long n, long d) {
    return (n + d - 1) / d;
  }

  /**
   * Starts an image of this format of {@code size} bytes, to be committed as {@code target}.
   *
   * @throws java.nio.file.FileAlreadyExistsException when the target exists and {@code overwrite} is false
   */
  public DiskImageWriter create(Path target, long size, boolean overwrite) throws IOException {
    return create(target, size, overwrite, true);
  }

  /**
   * Starts an image as {@link #create(Path, long, boolean)} does, written around the page cache
   * where the file system allows it only when {@code direct}.
   */
  public DiskImageWriter create(Path target, long size, boolean overwrite, boolean direct) throws IOException {
    return switch (this) {
      case RAW -> RawImageWriter.create(target, size, overwrite, direct);
      case QCOW2 -> Qcow2ImageWriter.create(target, size, overwrite, direct);
    };
  }
}
