/**
 * A native, read-only qcow2 reader: {@link org.tidemark.qcow2.Qcow2Image} reads the header, L1/L2
 * tables, zero and compressed (deflate, zstd) clusters and the persistent dirty bitmaps straight
 * from the file, with every offset and size checked. Errors are {@link
 * org.tidemark.qcow2.Qcow2Exception}s: {@link org.tidemark.qcow2.CorruptImageException} for a
 * malformed image, {@link org.tidemark.qcow2.UnsupportedImageException} for a feature it refuses.
 * The on-disk structures are documented in {@code Qcow2Image} and in {@code docs/qcow2.md}.
 *
 * <p>{@link org.tidemark.qcow2.Qcow2ImageWriter} writes thin qcow2 v3 images natively, for
 * restores to {@code --format qcow2} ({@code docs/qcow2.md}, "What Tidemark writes").
 */
package org.tidemark.qcow2;
