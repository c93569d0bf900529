package org.tidemark.qcow2;

/**
 * One persistent dirty bitmap of an image, from its bitmap directory.
 *
 * @param name the bitmap's name (for libvirt: the checkpoint's)
 * @param granularity guest bytes per bit
 * @param inUse the {@code in_use} flag: QEMU had the bitmap open when the image was last closed
 *     uncleanly, so its content is inconsistent and must not be trusted
 * @param auto the {@code auto} flag: the bitmap is enabled, recording every write
 * @param tableOffset file offset of its bitmap table
 * @param tableSize entries in its bitmap table
 */
public record Qcow2Bitmap(String name, long granularity, boolean inUse, boolean auto, long tableOffset, int tableSize) {}
