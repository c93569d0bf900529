/**
 * Backups, restores and verification: the product built on the qcow2 reader and the archive
 * format.
 *
 * <p>A backup is tagged with the checkpoint Y that marks the moment it saves. {@link
 * org.tidemark.backup.BackupPlanner} decides per disk whether it is incremental since the newest
 * ancestor X of Y that the repository holds, or full, and records why ({@link
 * org.tidemark.backup.DiskDecision}).
 */
package org.tidemark.backup;
