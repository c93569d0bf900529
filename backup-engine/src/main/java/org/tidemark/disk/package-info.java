/**
 * The seam between disk readers and the backup pipeline: {@link org.tidemark.disk.DiskSource}, a
 * source of guest bytes with its allocation and dirty extents, and {@link
 * org.tidemark.disk.Extent}; and between the restore and the image formats it writes: {@link
 * org.tidemark.disk.DiskImageWriter}.
 */
package org.tidemark.disk;
