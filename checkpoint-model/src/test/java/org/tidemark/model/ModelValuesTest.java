package org.tidemark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ModelValuesTest {
  private static final DomainDefinition DOMAIN = new DomainDefinition("<domain type='kvm'/>", "kvm", "vm",
      Optional.of("5c6d7e8f-0a1b-4c2d-9e3f-405162738495"), List.of(DomainDisk.of("vda", "/i/vda.qcow2", "qcow2")));

  private static Checkpoint.Builder base() {
    return Checkpoint.builder().name("cp1").description("d").parentName("cp0").creationTime(-5).domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", "cp1")).addDisk(CheckpointDisk.untracked("vdb"));
  }

  @Test
  void equalValuesAreEqualAndEveryFieldCounts() {
    Checkpoint a = base().build();
    assertEquals(a, base().build());
    assertEquals(a.hashCode(), base().build().hashCode());
    assertEquals(a, a.toBuilder().build());
    assertNotEquals(a, base().name("x").build());
    assertNotEquals(a, base().description("e").build());
    assertNotEquals(a, base().parentName(null).build());
    assertNotEquals(a, base().creationTime(0).build());
    assertNotEquals(a, base().domain(null).build());
    assertNotEquals(a, base().disks(List.of()).build());
    assertEquals(-5, a.creationTime(), "creation time is signed");
  }

  @Test
  void emptyDescriptionIsAbsentAndNamesAreChecked() {
    assertFalse(base().description("").build().description().isPresent());
    assertThrows(NullPointerException.class, () -> base().name(null).build());
    assertThrows(IllegalArgumentException.class, () -> base().name("").build());
    assertThrows(IllegalArgumentException.class, () -> base().parentName("").build());
  }

  @Test
  void aDiskListedTwiceIsRefusedWithLibvirtsWords() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> base().addDisk(CheckpointDisk.untracked("vda")).build());
    assertTrue(e.getMessage().contains("disk 'vda' specified twice"), e.getMessage());
  }

  @Test
  void checkpointDisks() {
    assertThrows(IllegalArgumentException.class,
        () -> CheckpointDisk.of("vda", CheckpointType.NO, Optional.of("b"), OptionalLong.empty()));
    assertThrows(IllegalArgumentException.class,
        () -> CheckpointDisk.of("vda", CheckpointType.BITMAP, Optional.empty(), OptionalLong.of(-1)));
    assertEquals(CheckpointType.BITMAP, CheckpointType.fromXmlName("bitmap"));
    assertThrows(IllegalArgumentException.class, () -> CheckpointType.fromXmlName("Bitmap"));
    assertEquals(Optional.of("x"), CheckpointDisk.of("vda", CheckpointType.BITMAP, Optional.empty(), OptionalLong.empty())
        .withBitmap("x").bitmap());
  }

  @Test
  void reparentingCopiesEverythingElse() {
    Checkpoint a = base().build();
    Checkpoint b = a.withParentName(Optional.empty());
    assertEquals(Optional.empty(), b.parentName());
    assertEquals(a.disks(), b.disks());
    assertEquals(a.domain(), b.domain());
    Snapshot s = Snapshot.builder().name("s1").parentName("s0").state("running")
        .memory(new SnapshotMemory("internal", Optional.empty())).build();
    Snapshot t = s.withParentName(Optional.of("s9"));
    assertEquals(Optional.of("s9"), t.parentName());
    assertEquals(s.state(), t.state());
    assertEquals(s.memory(), t.memory());
  }

  @Test
  void snapshotTreeUsesTheSameMechanism() {
    MomentTree<Snapshot> tree = new MomentTree<>();
    tree.create(Snapshot.builder().name("s1").build());
    tree.create(Snapshot.builder().name("s2").build());
    assertEquals(Optional.of("s1"), tree.require("s2").parentName());
    tree.delete("s1", MomentTree.DeleteMode.SINGLE);
    assertEquals(Optional.empty(), tree.require("s2").parentName());
    assertThrows(MomentTreeException.NotFound.class, () -> tree.require("s1"));
  }
}
