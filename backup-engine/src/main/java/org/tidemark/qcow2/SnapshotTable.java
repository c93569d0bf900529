package org.tidemark.qcow2;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The internal snapshot table, read on demand within QEMU's limits.
 *
 * <pre>
 * Snapshot table entry, from snapshots_offset, each padded to 8 bytes:
 *   0 u64 l1_table_offset  8 u32 l1_size  12 u16 id_str_size  14 u16 name_size
 *   16 u32 date_sec  20 u32 date_nsec  24 u64 vm_clock_nsec  32 u32 vm_state_size
 *   36 u32 extra_data_size, extra data (u64 vm_state_size_large, u64 disk_size, u64 icount), id, name
 * </pre>
 *
 * <p>As QEMU: at most {@value #MAX_SNAPSHOTS} snapshots, {@value #MAX_SNAPSHOT_EXTRA} bytes of
 * extra data each, and a table of at most {@value #MAX_SNAPSHOT_TABLE_BYTES} bytes. The entries'
 * fixed parts are walked first, through one small buffer, so a table beyond the limit is refused
 * before anything is kept of it. Nothing is kept between calls.
 */
final class SnapshotTable {
  /** QEMU's limit on the number of internal snapshots (QCOW_MAX_SNAPSHOTS). */
  private static final int MAX_SNAPSHOTS = 65536;
  /** QEMU's limit on a snapshot entry's extra data (QCOW_MAX_SNAPSHOT_EXTRA_DATA). */
  private static final int MAX_SNAPSHOT_EXTRA = 1024;
  private static final int MAX_SNAPSHOT_TABLE_BYTES = Qcow2Image.MAX_SNAPSHOT_TABLE_BYTES;

  private SnapshotTable() {}

  /**
   * The snapshots of the table the header names.
   *
   * @throws CorruptImageException when the table is malformed or beyond QEMU's limits
   */
  static List<Qcow2Snapshot> read(ImageFile file, Qcow2Header header) throws IOException {
    Path path = file.path();
    long snapshotCount = header.snapshotCount;
    long snapshotsOffset = header.snapshotsOffset;
    if (snapshotCount == 0) {
      return List.of();
    }
    String where = "snapshot table at 0x" + Long.toHexString(snapshotsOffset);
    if (snapshotCount > MAX_SNAPSHOTS) {
      throw new CorruptImageException(path, where + ": nb_snapshots " + snapshotCount + " (expected at most " + MAX_SNAPSHOTS + ")");
    }
    file.checkRange(snapshotsOffset, 0, where, header.clusterSize);
    int n = (int) snapshotCount;
    int[] starts = new int[n];
    ByteBuffer head = ByteBuffer.allocate(40);
    long end = 0; // of the last entry, unpadded, from the table's start
    for (int i = 0; i < n; i++) {
      long start = (end + 7) & ~7L;
      long pos = snapshotsOffset + start;
      String entry = where + ", entry " + i + " at 0x" + Long.toHexString(pos);
      file.checkRange(pos, 40, entry, 0);
      file.readInto(pos, head.clear(), entry);
      long extraSize = head.getInt(36) & 0xffffffffL;
      if (extraSize > MAX_SNAPSHOT_EXTRA) {
        throw new CorruptImageException(path, entry + ": extra_data_size " + extraSize + " (expected at most " + MAX_SNAPSHOT_EXTRA + ")");
      }
      long total = 40 + extraSize + (head.getShort(12) & 0xffff) + (head.getShort(14) & 0xffff);
      file.checkRange(pos, total, entry, 0);
      end = start + total;
      if (end > MAX_SNAPSHOT_TABLE_BYTES) {
        throw new CorruptImageException(path, where + ": the table of " + n + " entries reaches " + end + " bytes at entry " + i
            + " (expected at most " + MAX_SNAPSHOT_TABLE_BYTES + ", QEMU's limit)");
      }
      starts[i] = (int) start;
    }
    ByteBuffer table = file.read(snapshotsOffset, (int) end, where);
    List<Qcow2Snapshot> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int p = starts[i];
      int idSize = table.getShort(p + 12) & 0xffff;
      int nameSize = table.getShort(p + 14) & 0xffff;
      int extraSize = table.getInt(p + 36);
      long vmState = table.getInt(p + 32) & 0xffffffffL;
      if (extraSize >= 8) {
        vmState = table.getLong(p + 40);
      }
      java.util.OptionalLong icount = java.util.OptionalLong.empty();
      if (extraSize >= 24 && table.getLong(p + 56) != -1L) {
        icount = java.util.OptionalLong.of(table.getLong(p + 56));
      }
      String id = new String(table.array(), p + 40 + extraSize, idSize, StandardCharsets.UTF_8);
      String name = new String(table.array(), p + 40 + extraSize + idSize, nameSize, StandardCharsets.UTF_8);
      out.add(new Qcow2Snapshot(id, name, table.getInt(p + 16) & 0xffffffffL, table.getInt(p + 20) & 0xffffffffL,
          table.getLong(p + 24), vmState, icount, table.getLong(p), table.getInt(p + 8) & 0xffffffffL));
    }
    return List.copyOf(out);
  }
}
