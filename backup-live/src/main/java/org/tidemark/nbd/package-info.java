/**
 * Disks served over NBD as {@link org.tidemark.disk.DiskSource}s: {@link
 * org.tidemark.nbd.NbdExport} reads an export (a libvirt pull-mode backup job's, or any
 * {@code qemu-nbd}'s) through libnbd, with its allocation and QEMU dirty-bitmap contexts. libnbd
 * ({@code libnbd0}) is loaded on first use only; without it, {@link
 * org.tidemark.nbd.NbdExport#open} fails with an {@link org.tidemark.nbd.NbdException} naming the
 * package to install.
 */
package org.tidemark.nbd;
