package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

/**
 * The live runner's rules that need no libvirt: which disks an incremental job copies in full, the
 * disk a libvirt refusal names, and which connections are another host's (where a shut-off
 * domain's image paths are not this machine's files).
 */
class LiveBackupRulesTest {
  private static DomainDefinition domain(String xml, DomainDisk... disks) {
    return new DomainDefinition(xml, "kvm", "vm1", Optional.empty(), List.of(disks));
  }

  @Test
  void addedAndReplacedDisksAreCopiedInFullAnExternalSnapshotIsNot() {
    DomainDefinition then = domain("<domain type='kvm'/>", DomainDisk.of("vda", "/img/vda.qcow2", "qcow2"),
        DomainDisk.of("vdb", "/img/vdb.qcow2", "qcow2"), DomainDisk.of("vdc", "/img/vdc.qcow2", "qcow2"));
    Checkpoint base = Checkpoint.builder().name("cp1").creationTime(1).domain(then)
        .addDisk(CheckpointDisk.bitmap("vda", "cp1")).addDisk(CheckpointDisk.bitmap("vdb", "cp1"))
        .addDisk(CheckpointDisk.bitmap("vdc", "cp1")).build();
    String xml = "<domain type='kvm'><name>vm1</name><devices><disk type='file' device='disk'>"
        + "<source file='/img/vdc.overlay'/><backingStore type='file'><format type='qcow2'/>"
        + "<source file='/img/vdc.qcow2'/></backingStore><target dev='vdc'/></disk></devices></domain>";
    DomainDefinition now = domain(xml, DomainDisk.of("vda", "/img/vda.qcow2", "qcow2"),
        DomainDisk.of("vdb", "/img/vdb-new.qcow2", "qcow2"), DomainDisk.of("vdc", "/img/vdc.overlay", "qcow2"),
        DomainDisk.of("vdd", "/img/vdd.qcow2", "qcow2"));

    Map<String, String> full = LiveBackupRunner.changedDisks(base, now, List.of("vda", "vdb", "vdc", "vdd"));
    assertEquals(List.of("vdb", "vdd"), List.copyOf(full.keySet()), full.toString());
    assertTrue(full.get("vdb").contains("/img/vdb.qcow2") && full.get("vdb").contains("/img/vdb-new.qcow2"),
        full.get("vdb"));
    assertTrue(full.get("vdd").contains("added"), full.get("vdd"));
  }

  @Test
  void theRefusedDiskIsReadFromLibvirtsMessage() {
    assertEquals(Optional.of("vdb"), LiveBackupRunner.refusedDisk(
        "checkpoint inconsistent: missing or broken bitmap 'tidemark-20261205T030613Z' for disk 'vdb'"));
    assertEquals(Optional.empty(), LiveBackupRunner.refusedDisk("checkpoint inconsistent: something else"));
  }

  @Test
  void theFrozenCountIsReadFromTheAgentsAnswer() {
    // qemu-ga 7.2's answers, as libvirt passes them on (GuestAgentQuiesceTest gets {"return":1} from it)
    assertEquals(java.util.OptionalInt.of(1), GuestFreeze.frozenCount("{\"return\":1}"));
    assertEquals(java.util.OptionalInt.of(0), GuestFreeze.frozenCount("{\"return\": 0}"));
    assertEquals(java.util.OptionalInt.empty(), GuestFreeze.frozenCount("{\"return\":{}}"));
    assertEquals(java.util.OptionalInt.empty(), GuestFreeze.frozenCount(null));
  }

  @Test
  void remoteUrisAreAnotherHosts() {
    assertTrue(LiveBackupRunner.isRemote("qemu+ssh://backup-host.example/system"));
    assertTrue(LiveBackupRunner.isRemote("qemu+tcp://10.0.0.5/system"));
    assertFalse(LiveBackupRunner.isRemote("qemu:///system"));
    assertFalse(LiveBackupRunner.isRemote("qemu:///system?socket=/tmp/x/libvirt-sock"));
    assertFalse(LiveBackupRunner.isRemote("qemu+ssh://localhost/system"));
    assertFalse(LiveBackupRunner.isRemote("qemu+tcp://127.0.0.1/system"));
  }
}
