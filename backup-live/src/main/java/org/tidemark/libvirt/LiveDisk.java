package org.tidemark.libvirt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.nbd.NbdExport;

/**
 * One disk of a pull-mode backup job, as the backup pipeline sees a disk: the export's bytes and
 * allocation, and for an incremental job the changes since its base checkpoint. libvirt has already
 * merged the base's bitmap with those of the checkpoints after it into the export's one context
 * {@code qemu:dirty-bitmap:backup-DISK}, so the base checkpoint's bitmap is the one bitmap this disk
 * reports (present and recording); every other reads as missing. Thread-safe as the export is.
 */
public final class LiveDisk implements DiskSource {
  private final NbdExport export;
  private final String disk;
  private final Optional<String> baseBitmap;
  private final Optional<String> brokenBitmap;

  /**
   * @param export the disk's export, connected with {@link PullBackup#dirtyBitmap} when incremental
   * @param disk the disk's target name
   * @param baseBitmap the base checkpoint's bitmap for this disk, for an incremental job
   */
  public LiveDisk(NbdExport export, String disk, Optional<String> baseBitmap) {
    this(export, disk, baseBitmap, Optional.empty());
  }

  /**
   * A disk of a full job that replaces an incremental libvirt refused: {@code brokenBitmap}, the
   * base's bitmap, reads as present but in use (not saved cleanly: what a killed QEMU leaves), so
   * the planner records why the disk is copied in full.
   */
  public LiveDisk(NbdExport export, String disk, Optional<String> baseBitmap, Optional<String> brokenBitmap) {
    this.export = export;
    this.disk = disk;
    this.baseBitmap = baseBitmap;
    this.brokenBitmap = brokenBitmap;
  }

  @Override
  public String description() {
    return export.description();
  }

  @Override
  public long virtualSize() {
    return export.virtualSize();
  }

  @Override
  public void readFully(long offset, ByteBuffer dst) throws IOException {
    export.readFully(offset, dst);
  }

  @Override
  public List<Extent> allocation() throws IOException {
    return export.allocation();
  }

  @Override
  public BitmapState bitmap(String name) {
    if (baseBitmap.filter(name::equals).isPresent()) {
      return new BitmapState(true, false, false, true);
    }
    return brokenBitmap.filter(name::equals).isPresent() ? new BitmapState(true, false, true, false) : BitmapState.MISSING;
  }

  @Override
  public List<Extent> dirtyExtents(List<String> names) throws IOException {
    if (baseBitmap.isEmpty() || !names.equals(List.of(baseBitmap.get()))) {
      throw new IOException(description() + ": the backup job exports changes since bitmap "
          + baseBitmap.map(b -> "'" + b + "'").orElse("(none: a full job)") + " only, not " + names);
    }
    return export.dirtyExtents(List.of(PullBackup.dirtyBitmap(disk)));
  }

  @Override
  public void close() {
    export.close();
  }
}
