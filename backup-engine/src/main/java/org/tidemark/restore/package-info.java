/**
 * Restores: {@link org.tidemark.restore.RestoreRunner} rebuilds the disks of a backup (the whole
 * chain of archives up to it) as raw or qcow2 images ({@link org.tidemark.restore.ImageFormat})
 * through a {@link org.tidemark.disk.DiskImageWriter}: {@link org.tidemark.restore.RawImageWriter},
 * or the qcow2 writer. It sits above {@code org.tidemark.backup} only for the shared {@link
 * org.tidemark.backup.Progress}; nothing in the backup package uses it.
 */
package org.tidemark.restore;
