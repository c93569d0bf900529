package org.tidemark.restore;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a restore writes each disk, and how: a file, a block device, any writer. {@link
 * #folder(Path, boolean)} is the default layout ({@code DISK.raw} or {@code DISK.qcow2} and the
 * domain definition {@code DOMAIN.xml} in one folder, all named together once complete).
 *
 * <p>A restore calls {@link #prepare} once before writing anything, then per disk {@link #open},
 * writes the disk's data (never its zero ranges: a new output must read as zeros, as a new sparse
 * file or a zeroed device does), {@link DiskOutput#complete()} and closes it; then the domain
 * definition (when {@link #definition} names where it goes), and {@link #publish()} once every
 * output is complete. On any failure or cancellation it closes what is open and calls {@link
 * #abandon()} instead, which must leave nothing of the restore behind. One instance serves one
 * restore, from one thread.
 */
public interface RestoreTarget {
  /**
   * The default layout: the images and the domain definition in {@code directory} (created if
   * missing) under temporary names, named only once all are complete; with {@code overwrite},
   * existing files of the same names are replaced, else refused before anything is written.
   */
  static RestoreTarget folder(Path directory, boolean overwrite) {
    return new FolderTarget(directory, overwrite, true);
  }

  /**
   * The location of {@code disk}'s image in {@code format}: what the restored domain definition
   * points at, and what the result reports.
   */
  Path location(String disk, ImageFormat format);

  /**
   * Starts the output of {@code disk}, of {@code virtualSize} guest bytes.
   *
   * @throws IOException when it cannot be created
   */
  DiskOutput open(String disk, long virtualSize, ImageFormat format) throws IOException;

  /**
   * Called before anything is written with the disks to restore and the name of the domain
   * definition (if one will be written): the place to refuse outputs that exist. Does nothing by
   * default.
   *
   * @throws java.nio.file.FileAlreadyExistsException when an output exists and may not be replaced
   */
  default void prepare(List<String> disks, ImageFormat format, Optional<String> definition) throws IOException {}

  /**
   * Where the domain definition named {@code name} is written ({@link #writeDefinition}); empty
   * (the default): no definition is written.
   */
  default Optional<Path> definition(String name) {
    return Optional.empty();
  }

  /** Writes the domain definition to {@link #definition}{@code (name)}; called only when that is present. */
  default void writeDefinition(String name, String xml) throws IOException {
    throw new UnsupportedOperationException("this target writes no domain definition");
  }

  /** Every output is complete: make them visible together. Does nothing by default. */
  default void publish() throws IOException {}

  /** The restore failed or was cancelled: remove what it wrote. Does nothing by default. */
  default void abandon() {}

  /**
   * One disk being written. Writes come from one thread, in increasing guest order, within
   * {@code [0, virtualSize)}.
   */
  @FunctionalInterface
  interface DiskOutput extends Closeable {
    /** Writes the remaining bytes of {@code data} at guest {@code offset} (its position advances to its limit). */
    void write(long offset, ByteBuffer data) throws IOException;

    /** Every byte is written: make it durable. Does nothing by default. */
    default void complete() throws IOException {}

    /** Releases the output (after {@link #complete()}, or abandoning it). Does nothing by default. */
    @Override
    default void close() throws IOException {}

    /**
     * An output writing a new sparse file {@code file} of {@code size} bytes (it reads as zeros
     * until written), forced by {@link #complete()}.
     *
     * @throws java.nio.file.FileAlreadyExistsException when {@code file} exists
     */
    static DiskOutput newFile(Path file, long size) throws IOException {
      FileChannel channel = FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
          java.nio.file.StandardOpenOption.WRITE);
      try (java.io.RandomAccessFile sizer = new java.io.RandomAccessFile(file.toFile(), "rw")) {
        sizer.setLength(size);
      } catch (IOException | RuntimeException e) {
        channel.close();
        java.nio.file.Files.deleteIfExists(file);
        throw e;
      }
      return of(channel);
    }

    /**
     * An output writing to {@code channel} at the guest offsets (a file or a block device open
     * for writing), forced by {@link #complete()} and closed by {@link #close()}.
     */
    static DiskOutput of(FileChannel channel) {
      return new DiskOutput() {
        @Override
        public void write(long offset, ByteBuffer data) throws IOException {
          long at = offset;
          while (data.hasRemaining()) {
            at += channel.write(data, at);
          }
        }

        @Override
        public void complete() throws IOException {
          channel.force(true);
        }

        @Override
        public void close() throws IOException {
          channel.close();
        }
      };
    }
  }
}
