package org.tidemark.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where backup archives live: a flat space of named, immutable objects that are written once, in
 * one pass, and read by position many times.
 *
 * <h2>Names</h2>
 *
 * A name is a relative, {@code /}-separated path ({@code DOMAIN/CHECKPOINT.tar}): segments are not
 * empty, not {@code .} or {@code ..}, do not start with {@code .} (hidden names belong to the store's
 * pending outputs) and hold no NUL ({@link StoreNames#check}). A name that breaks this is an {@link
 * IllegalArgumentException}.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Create.</b> {@link #createOutput} starts a pending output. Nothing is visible under its
 *       name — to {@link #list}, {@link #exists}, {@link #openInput} — until {@link
 *       StoreOutput#commit()} returns. Closing an output without a commit discards it; a process
 *       killed mid-way leaves at most an <em>abandoned</em> output, which is never listed or opened
 *       and which {@link #discardAbandoned} removes.
 *   <li><b>Commit</b> is atomic (readers see no object, or the whole object), durable (once it
 *       returns, the object survives a crash or power loss) and <em>never replaces</em> an object
 *       of the same name: when the name was taken meanwhile, commit fails with {@link
 *       java.nio.file.FileAlreadyExistsException} and the existing object is untouched. When the
 *       store cannot give these guarantees it fails with {@link CommitUnsupportedException} (an
 *       {@link IOException}), never an unchecked exception, and the output is discarded.
 *   <li><b>Replace.</b> {@link #replaceOutput} starts a pending output that is to take the place of a
 *       committed object of the same name: the one explicit way to change what a name holds
 *       (consolidation rewrites a backup in place, so that the archives naming it as their parent
 *       stay linked). Its {@link StoreOutput#commit()} is atomic (readers opening the name see the
 *       old object or the new one, never neither, never a mix) and durable, and fails with {@link
 *       java.nio.file.NoSuchFileException} when the object is gone by then, leaving nothing under
 *       the name. A crash at any moment leaves the old object or the new one under the name, and
 *       at most an abandoned output beside it. The caller keeps other writers away (the repository
 *       lock): two replacements of one name race, the last commit wins.
 *   <li><b>Check before commit.</b> {@link StoreOutput#openPending()} ends an output's writes and
 *       opens what it holds for positional reads, still invisible under its name, so that the
 *       writer can verify it before committing or discarding it.
 *   <li><b>Read.</b> {@link #openInput} opens a committed object for positional reads; its size is
 *       fixed. Objects are immutable: nothing rewrites a committed object in place (a replacement
 *       is a new object under the old name).
 *   <li><b>List.</b> {@link #list} gives the committed names under a prefix, sorted; pending and
 *       abandoned outputs are never listed. A name committed before the call starts is listed
 *       (read-after-write); one committed or deleted during the call may or may not be.
 *   <li><b>Delete.</b> {@link #delete} removes a committed object; readers that have it open may go
 *       on reading (local file systems) or fail with an {@link IOException} (object stores), never
 *       read another object's bytes.
 * </ul>
 *
 * <h2>On an S3-compatible object store</h2>
 *
 * <ul>
 *   <li>{@link #createOutput}: a multipart upload to the final key (parts of at least 5 MiB; the
 *       writer's {@link StoreOutput#write} calls are gathered into parts), or to a temporary key
 *       under a hidden prefix ({@code .pending/}) when the store has no conditional writes.
 *   <li>{@link StoreOutput#commit()}: completing the multipart upload with {@code If-None-Match: *}
 *       (put-if-absent: {@code 412 Precondition Failed} becomes {@link
 *       java.nio.file.FileAlreadyExistsException}); without conditional writes, a server-side
 *       copy of the temporary key to the final key with {@code If-None-Match: *} or a store's
 *       no-replace rename, then deleting the temporary key. A store offering neither cannot keep
 *       "never replaces" and must fail with {@link CommitUnsupportedException}. An acknowledged
 *       completion is durable; an upload is invisible until completed, so atomicity comes free.
 *   <li>{@link #replaceOutput}: the pending object must be readable before it is committed ({@link
 *       StoreOutput#openPending()}), so it is uploaded to a temporary key under the hidden prefix,
 *       with the ETag of the object being replaced taken from a {@code HEAD} when the output
 *       starts. {@link StoreOutput#openPending()} completes that upload and reads the temporary key
 *       with ranged {@code GET}s. The replacing commit is a server-side copy ({@code CopyObject},
 *       or {@code UploadPartCopy} parts above 5 GiB) of the temporary key onto the final key with
 *       {@code If-Match: ETAG} (a {@code 412} because the object changed or went away meanwhile
 *       becomes {@link java.nio.file.NoSuchFileException} or a failure naming it; S3 replaces a
 *       key atomically: a reader's {@code GET} sees the old or the new object whole, and one
 *       pinned to the old ETag fails instead of mixing them), then deleting the temporary key.
 *       A crash before the copy leaves the old object and a temporary key that {@link
 *       #discardAbandoned} removes; after it, the new object.
 *   <li>{@link StoreOutput#openPending()} of a plain output: the multipart upload cannot be read
 *       before it completes, so such a store uploads to a temporary key for it too and commits
 *       with a conditional copy ({@code If-None-Match: *}).
 *   <li>{@link StoreOutput#close()} without commit: abort the multipart upload (or delete the
 *       temporary key). {@link #discardAbandoned}: list and abort the incomplete uploads (or
 *       temporary keys) under the prefix — a lifecycle rule does the same for crashed writers.
 *   <li>{@link #openInput}: a {@code HEAD} for the size (and the ETag, sent as {@code If-Match} with
 *       every read so a replaced or deleted key fails instead of mixing objects), and {@link
 *       StoreInput#read} as a ranged {@code GET}.
 *   <li>{@link #list}: {@code ListObjectsV2} with the prefix; S3 lists strongly consistently
 *       (read-after-write), a store that does not must say so, as a listing may then miss a new
 *       archive.
 *   <li>Locking: {@code org.tidemark.archive.RepositoryLock} is a lock file with an OS file lock and
 *       works only on the local file system; a repository on an object store needs its own writer
 *       exclusion (a conditional put of a lease object), which this interface does not provide.
 * </ul>
 *
 * <p>Implementations are thread-safe: any number of threads may list, open, create and delete at
 * once, and an input's positional reads may run in parallel. An output is used by one thread.
 */
public interface ArchiveStore {
  /** The committed names that start with {@code prefix} (empty for all), sorted; never a pending output. */
  List<String> list(String prefix) throws IOException;

  /** Whether an object of this name is committed. */
  boolean exists(String name) throws IOException;

  /**
   * Opens a committed object for positional reads.
   *
   * @throws java.nio.file.NoSuchFileException when there is none of that name
   */
  StoreInput openInput(String name) throws IOException;

  /**
   * Starts a pending output to be committed as {@code name}.
   *
   * @throws java.nio.file.FileAlreadyExistsException when an object of that name is committed already
   */
  StoreOutput createOutput(String name) throws IOException;

  /**
   * Starts a pending output that, once committed, takes the place of the committed object {@code
   * name} under the same name (see "Replace" above). {@link #createOutput} never replaces; this is
   * the explicit way to.
   *
   * @throws java.nio.file.NoSuchFileException when no object of that name is committed
   */
  StoreOutput replaceOutput(String name) throws IOException;

  /**
   * Deletes a committed object.
   *
   * @return whether there was one
   */
  boolean delete(String name) throws IOException;

  /**
   * Removes the outputs that writers killed mid-way left under {@code prefix}, and returns where
   * they were. Call it only while no live writer creates under that prefix (hold the repository's
   * lock): a live output is not told apart from an abandoned one. Outputs of this JVM that are
   * still open are kept.
   */
  List<Path> discardAbandoned(String prefix) throws IOException;

  /**
   * A path naming the object in messages and exceptions ({@code ROOT/NAME} for a local store, a
   * URI-like path for a remote one). Not necessarily a path the default file system can open.
   */
  Path locate(String name);
}
