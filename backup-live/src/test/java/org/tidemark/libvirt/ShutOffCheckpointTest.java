package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.DomainGrammar;
import org.tidemark.xml.DomainXml;

/**
 * The document that tags a shut-off domain's backup: its parent is the base, each disk the base
 * tracks names the base's bitmap, other disks a bitmap no image holds, drives without media or
 * read-only are untracked; and libvirt's checkpoint grammar accepts it.
 */
class ShutOffCheckpointTest {
  private static final String DOMAIN = "<domain type='kvm'>\n  <name>web</name>\n"
      + "  <uuid>5f0d9a52-7f2e-4c1a-9f3e-0c1d2e3f4a5b</uuid>\n  <memory unit='KiB'>65536</memory>\n"
      + "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n  </os>\n  <devices>\n"
      + "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
      + "      <source file='/var/lib/libvirt/images/web.qcow2'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n"
      + "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
      + "      <source file='/var/lib/libvirt/images/added.qcow2'/>\n      <target dev='vdb' bus='virtio'/>\n    </disk>\n"
      + "    <disk type='file' device='cdrom'>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n"
      + "  </devices>\n</domain>\n";

  @Test
  void parentIsTheBaseAndTrackedDisksNameTheBasesBitmap() throws Exception {
    DomainDefinition domain = DomainXml.parse(DOMAIN.getBytes(StandardCharsets.UTF_8), "web", DomainGrammar.builtIn());
    Checkpoint base = Checkpoint.builder().name("tidemark-20261204T010000Z").creationTime(1_796_000_000L)
        .addDisk(CheckpointDisk.bitmap("vda", "tidemark-20261204T010000Z")).build();
    String name = "tidemark-20261205T010000Z" + ShutOffCheckpoint.SUFFIX;
    Checkpoint c = ShutOffCheckpoint.of(name, Optional.of(base), domain, 1_796_100_000L);

    Checkpoint parsed = CheckpointXml.parse(CheckpointXml.format(c).getBytes(StandardCharsets.UTF_8), "built",
        Set.of(), DomainGrammar.builtIn());
    assertEquals(name, parsed.name());
    assertEquals(Optional.of(base.name()), parsed.parentName());
    assertEquals(1_796_100_000L, parsed.creationTime());
    assertEquals(Optional.of("web"), parsed.domain().map(DomainDefinition::name));
    assertEquals(Optional.of(base.name()), parsed.disk("vda").flatMap(CheckpointDisk::bitmap));
    assertEquals(Optional.of(name), parsed.disk("vdb").flatMap(CheckpointDisk::bitmap), "the base does not track vdb");
    assertEquals(CheckpointType.NO, parsed.disk("sda").orElseThrow().type());
    assertTrue(parsed.description().orElseThrow().contains("not a libvirt checkpoint"), parsed.description().toString());
  }

  @Test
  void withoutABaseThereIsNoParent() throws Exception {
    DomainDefinition domain = DomainXml.parse(DOMAIN.getBytes(StandardCharsets.UTF_8), "web", DomainGrammar.builtIn());
    Checkpoint c = ShutOffCheckpoint.of("tidemark-x-offline", Optional.empty(), domain, 5L);
    Checkpoint parsed = CheckpointXml.parse(CheckpointXml.format(c).getBytes(StandardCharsets.UTF_8), "built",
        EnumSet.noneOf(CheckpointXml.ParseOption.class), DomainGrammar.builtIn());
    assertEquals(Optional.empty(), parsed.parentName());
    assertEquals(Optional.of("tidemark-x-offline"), parsed.disk("vda").flatMap(CheckpointDisk::bitmap));
  }
}
