package org.tidemark.xml;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * libvirt's alignment of a checkpoint's disks with its domain: each listed disk is found by target
 * name or source path and renamed to its target; a disk listed twice, or unknown, is refused; a
 * bitmap on an empty or read-only disk is refused; unlisted disks are added (tracked by a bitmap
 * when the checkpoint listed no disk at all, untracked otherwise; empty and read-only disks are
 * never tracked); a tracked disk's bitmap defaults to the checkpoint's name; the result follows
 * the domain's disk order.
 */
final class DiskAlignment {
  private DiskAlignment() {}

  /**
   * @param at the {@code <disk>} element of each listed disk, in the same order: an error names the
   *     position of the disk it is about (the first disk too many, the second of a disk named twice)
   */
  static List<CheckpointDisk> align(List<CheckpointDisk> listed, List<XmlElement> at, DomainDefinition domain,
      String checkpoint, String resource) throws CheckpointXmlException {
    List<DomainDisk> domainDisks = domain.disks();
    if (listed.size() > domainDisks.size()) {
      throw MomentXml.error(at.get(domainDisks.size()), resource, "too many disk checkpoint requests for domain");
    }
    CheckpointDisk[] byIndex = new CheckpointDisk[domainDisks.size()];
    for (int i = 0; i < listed.size(); i++) {
      CheckpointDisk d = listed.get(i);
      int idx = indexOf(domainDisks, d.name());
      if (idx < 0) {
        throw MomentXml.error(at.get(i), resource, "no disk named '" + d.name() + "'");
      }
      if (byIndex[idx] != null) {
        throw MomentXml.error(at.get(i), resource, "disk '" + d.name() + "' specified twice");
      }
      DomainDisk dd = domainDisks.get(idx);
      if (d.type() == CheckpointType.BITMAP && (dd.empty() || dd.readOnly())) {
        throw MomentXml.error(at.get(i), resource, "disk '" + d.name() + "' is empty or readonly");
      }
      byIndex[idx] = CheckpointDisk.of(dd.target(), d.type(),
          d.type() == CheckpointType.BITMAP ? Optional.of(d.bitmap().orElse(checkpoint)) : Optional.empty(), d.size());
    }
    CheckpointType unlisted = listed.isEmpty() ? CheckpointType.BITMAP : CheckpointType.NO;
    List<CheckpointDisk> out = new ArrayList<>();
    for (int i = 0; i < byIndex.length; i++) {
      if (byIndex[i] != null) {
        out.add(byIndex[i]);
        continue;
      }
      DomainDisk dd = domainDisks.get(i);
      out.add(unlisted == CheckpointType.BITMAP && !dd.empty() && !dd.readOnly()
          ? CheckpointDisk.bitmap(dd.target(), checkpoint) : CheckpointDisk.untracked(dd.target()));
    }
    return out;
  }

  /** Without a domain nothing can be aligned: only the bitmap names default to the checkpoint's. */
  static List<CheckpointDisk> defaultBitmaps(List<CheckpointDisk> listed, String checkpoint) {
    return listed.stream().map(d -> d.type() == CheckpointType.BITMAP && d.bitmap().isEmpty() ? d.withBitmap(checkpoint) : d).toList();
  }

  /**
   * libvirt's {@code virDomainDiskIndexByName} (not ambiguous): a name without a leading slash is a
   * target, matched exactly; a path is matched against the disks' sources and must match only one.
   * Shared by checkpoints and snapshots; -1 when no disk (or more than one) matches.
   */
  static int indexOf(List<DomainDisk> disks, String name) {
    int candidate = -1;
    for (int i = 0; i < disks.size(); i++) {
      DomainDisk d = disks.get(i);
      if (!name.startsWith("/")) {
        if (d.target().equals(name)) {
          return i;
        }
      } else if (d.source().filter(name::equals).isPresent()) {
        if (candidate >= 0) {
          return -1;
        }
        candidate = i;
      }
    }
    return candidate;
  }
}
