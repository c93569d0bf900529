package org.tidemark.qcow2;

import java.util.OptionalLong;

/**
 * One internal snapshot of an image, from its snapshot table (the facts {@code qemu-img info} lists).
 * The reader reads the active state only; a snapshot's clusters stay shared with it, which is why
 * the active L2 entries of shared clusters have the copied flag clear.
 *
 * @param id the snapshot's ID string ("1", "2", ...)
 * @param name its name
 * @param dateSec wall-clock time it was taken, seconds since the epoch
 * @param dateNsec the nanoseconds of that time
 * @param vmClockNsec the guest's clock when it was taken, nanoseconds
 * @param vmStateSize bytes of saved VM state (0 for a disk-only snapshot)
 * @param icount the guest's instruction count when it was taken, if recorded
 * @param l1TableOffset file offset of the snapshot's L1 table
 * @param l1Size entries in that L1 table
 */
public record Qcow2Snapshot(String id, String name, long dateSec, long dateNsec, long vmClockNsec, long vmStateSize,
    OptionalLong icount, long l1TableOffset, long l1Size) {}
