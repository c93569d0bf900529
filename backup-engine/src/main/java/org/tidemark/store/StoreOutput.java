package org.tidemark.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * A pending object of an {@link ArchiveStore}: written sequentially, invisible until {@link
 * #commit()}, discarded by {@link #close()} without a commit. An output started by {@link
 * ArchiveStore#createOutput} commits without ever replacing; one started by {@link
 * ArchiveStore#replaceOutput} commits by replacing the object of its name.
 *
 * <p>Not thread-safe: one thread writes and commits. Buffers handed to {@link #write} may be reused
 * once it returns.
 */
public interface StoreOutput extends Closeable {
  /** Where the object will be, for messages ({@link ArchiveStore#locate}). */
  Path path();

  /**
   * The block size writes should be aligned to, in position, length and buffer address, to be
   * fastest (a local file system writes such writes around the page cache); 1 when alignment
   * does not matter. A writer that aligns its large writes gets today's local speed; one that
   * does not is still correct.
   */
  int alignment();

  /** Bytes written so far: where the next write goes. */
  long position();

  /**
   * Appends the remaining bytes of {@code parts}, one after the other, and advances each part to its
   * limit (a gathering write).
   *
   * @throws IllegalStateException when the output is committed or closed
   */
  void write(ByteBuffer... parts) throws IOException;

  /**
   * Ends the writes and opens what was written for positional reads, while the object is still
   * pending (invisible under its name): the writer checks it before {@link #commit()} or {@link
   * #close()}, which end the output as before. After this call {@link #write} fails. Close the
   * input before committing.
   *
   * @throws IllegalStateException when the output is committed or closed, or was opened already
   */
  StoreInput openPending() throws IOException;

  /**
   * Makes the object visible under its name: atomic and durable ({@link ArchiveStore}); an output
   * of {@link ArchiveStore#createOutput} never replaces, one of {@link ArchiveStore#replaceOutput}
   * replaces the object of its name. On failure the output is discarded.
   *
   * @throws java.nio.file.FileAlreadyExistsException when an object of that name was committed
   *     meanwhile (a created output)
   * @throws java.nio.file.NoSuchFileException when the object to replace is gone (a replacing output)
   * @throws CommitUnsupportedException when the store cannot commit without the risk of replacing
   * @throws IllegalStateException when the output is committed or closed
   */
  void commit() throws IOException;

  /** Discards the object unless it was committed; a no-op after commit or a previous close. */
  @Override
  void close() throws IOException;
}
