/**
 * Backups: the product built on the disk seam and the archive format.
 *
 * <p>A backup is tagged with the checkpoint Y that marks the moment it saves. {@link
 * org.tidemark.backup.BackupPlanner} decides per disk whether it is incremental since the newest
 * ancestor X of Y that the repository holds, or full, and records why ({@link
 * org.tidemark.archive.DiskDecision}), from what each disk's {@link org.tidemark.disk.DiskSource}
 * says (its size and bitmap states); {@link org.tidemark.backup.BackupRunner} copies the extents it
 * chose into a new archive. Restores are in {@code org.tidemark.restore}.
 */
package org.tidemark.backup;
