package org.tidemark.disk;

/**
 * What a disk image says about one persistent dirty bitmap, seen across its whole backing chain.
 *
 * @param present the bitmap is in the image (in the top layer, and in every layer below that has
 *     it, contiguously)
 * @param gapInChain some layer of the backing chain lacks the bitmap while a layer below it has it,
 *     so writes made while that layer was on top are not recorded
 * @param inUse the bitmap is flagged in-use in some layer: it was not saved cleanly and cannot be
 *     trusted
 * @param recording the bitmap is enabled (QEMU's {@code auto} flag): it records every write
 */
public record BitmapState(boolean present, boolean gapInChain, boolean inUse, boolean recording) {
  /** The state of a bitmap that no layer of the image has. */
  public static final BitmapState MISSING = new BitmapState(false, false, false, false);
}
