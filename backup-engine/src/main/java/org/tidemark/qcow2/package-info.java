/**
 * A native, read-only qcow2 reader: {@link org.tidemark.qcow2.Qcow2Image} reads the header, L1/L2
 * tables, zero and compressed (deflate, zstd) clusters and the persistent dirty bitmaps straight
 * from the file, with every offset and size checked. Errors are {@link
 * org.tidemark.qcow2.Qcow2Exception}s: {@link org.tidemark.qcow2.CorruptImageException} for a
 * malformed image, {@link org.tidemark.disk.UnsupportedImageException} for a feature it refuses.
 * The on-disk structures are documented where they are read ({@code Qcow2Header}, {@code
 * SnapshotTable}) and in {@code docs/qcow2.md}. {@code Qcow2Image} is the facade over one layer's
 * package-private parts, each with one job: the image file's checked reads ({@code ImageFile}), the
 * header and its extensions ({@code Qcow2Header}), the L1/L2 tables and L2 cache ({@code
 * ClusterMap}), the {@code qemu-img map} emulation ({@code AllocationMap}), guest reads and
 * decompression ({@code ClusterReader}), the persistent bitmaps ({@code Bitmaps}), the snapshot
 * table ({@code SnapshotTable}) and the backing and external data files ({@code BackingFiles},
 * under a {@link org.tidemark.qcow2.BackingPolicy}).
 *
 * <p>{@link org.tidemark.qcow2.Qcow2ImageWriter} writes thin qcow2 v3 images natively, for
 * restores to {@code --format qcow2} ({@code docs/qcow2.md}, "What Tidemark writes").
 */
package org.tidemark.qcow2;
