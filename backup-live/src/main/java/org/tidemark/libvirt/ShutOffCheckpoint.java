package org.tidemark.libvirt;

import java.util.Objects;
import java.util.Optional;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * The checkpoint document that tags the backup of a shut-off domain. libvirt creates no checkpoint
 * for an inactive domain ("cannot create checkpoint for inactive domain"), and Tidemark does not add
 * a bitmap to the images itself (source images are opened read-only), so this document is Tidemark's
 * own: it names the moment the archive saves, and libvirt never hears of it.
 *
 * <ul>
 *   <li>Its parent is the base: the newest checkpoint libvirt has whose backup the repository holds.
 *       The archive holds the changes since the base, read from the images with the base's bitmaps
 *       (QEMU wrote them into the qcow2 files at shutdown, and they record every write since, the
 *       offline ones of {@code qemu-io} or {@code qemu-img} included).
 *   <li>Each disk the base tracks names the base's bitmap: the one bitmap that records the changes
 *       since this moment (a superset of them, as it began earlier). A disk the base does not track
 *       names a bitmap after this document, which no image holds.
 *   <li>No libvirt checkpoint is ever its child, so it is never the base of a later backup: the next
 *       live backup is incremental since the same base (libvirt's bitmap still has every write since
 *       it), re-copying what changed between the base and the shutdown. Never a write missed.
 * </ul>
 *
 * <p>Its name is {@code tidemark-YYYYMMDDTHHMMSSZ-offline}: never one of libvirt's (their rotation
 * never looks for it) and never the name of a live backup. Stateless.
 */
final class ShutOffCheckpoint {
  /** The suffix of the names of these documents. */
  static final String SUFFIX = "-offline";

  private ShutOffCheckpoint() {}

  /**
   * The document for a backup of {@code domain}, shut off, at {@code creationTime}.
   *
   * @param name the document's name (ends with {@link #SUFFIX})
   * @param base the base checkpoint as libvirt has it, when the repository holds its backup
   * @param domain the domain's definition now (libvirt's inactive XML)
   * @param creationTime seconds since the epoch
   */
  static Checkpoint of(String name, Optional<Checkpoint> base, DomainDefinition domain, long creationTime) {
    Objects.requireNonNull(name, "name");
    Checkpoint.Builder b = Checkpoint.builder().name(name).creationTime(creationTime).domain(domain)
        .description("Tidemark: backup of the shut-off domain read from its image files; not a libvirt checkpoint"
            + base.map(c -> " (changes since checkpoint " + c.name() + ")").orElse(""));
    base.ifPresent(c -> b.parentName(c.name()));
    for (DomainDisk d : domain.disks()) {
      if (d.empty() || d.readOnly()) {
        b.addDisk(CheckpointDisk.untracked(d.target()));
        continue;
      }
      String bitmap = base.flatMap(c -> c.disk(d.target()))
          .filter(c -> c.type() == CheckpointType.BITMAP)
          .map(c -> c.bitmap().orElse(base.get().name()))
          .orElse(name);
      b.addDisk(CheckpointDisk.bitmap(d.target(), bitmap));
    }
    return b.build();
  }
}
