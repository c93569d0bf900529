/**
 * Opening disk image files: {@link org.tidemark.image.Images} is the one opener that picks the
 * reader for an image file (the declared format, else qcow2's magic, else raw) and returns it as an
 * {@link org.tidemark.disk.DiskSource}. It sits above both the seam ({@code org.tidemark.disk}) and
 * the readers ({@code org.tidemark.qcow2}, {@link org.tidemark.disk.RawImage}), so neither depends
 * on the other's package.
 */
package org.tidemark.image;
