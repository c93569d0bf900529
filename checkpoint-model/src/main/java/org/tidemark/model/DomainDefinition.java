package org.tidemark.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A domain definition kept with a moment: the {@code <domain>} XML subtree as an opaque, immutable
 * text that the XML module writes back exactly as it was read, plus the few facts Tidemark
 * extracts from it (type, name, uuid, disks).
 *
 * <p>The {@link #xml()} text is the element from {@code <domain} to {@code </domain>} without a
 * trailing newline, indented as a top-level document (libvirt re-indents it when embedding it in a
 * checkpoint). The model never interprets it; the extracted facts are the only structured view.
 * Immutable and thread-safe.
 *
 * @param xml the {@code <domain>} element as text
 * @param type the hypervisor type ({@code kvm}, {@code qemu}, {@code test}, ...)
 * @param name the domain name
 * @param uuid the domain UUID, if given
 * @param disks the {@code <disk>} devices in document order
 */
public record DomainDefinition(
    String xml, String type, String name, Optional<String> uuid, List<DomainDisk> disks) {

  /** Checks the fields and freezes the disk list. */
  public DomainDefinition {
    Objects.requireNonNull(xml, "xml");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(uuid, "uuid");
    disks = List.copyOf(disks);
  }

  /** The disk with the given target device name, if any. */
  public Optional<DomainDisk> disk(String target) {
    return disks.stream().filter(d -> d.target().equals(target)).findFirst();
  }

  @Override
  public String toString() {
    return "DomainDefinition{type=" + type + ", name=" + name + uuid.map(u -> ", uuid=" + u).orElse("")
        + ", disks=" + disks + ", xml=" + xml.length() + " chars}";
  }
}
