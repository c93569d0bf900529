package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tidemark.archive.DiskDecision;
import org.tidemark.disk.BitmapState;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Extent;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;

class BackupPlannerTest {
  private static final long SIZE = 1 << 30;

  private static final DomainDefinition DOMAIN =
      new DomainDefinition(
          "<domain type='kvm'/>",
          "kvm",
          "vm1",
          Optional.empty(),
          List.of(
              DomainDisk.of("vda", "/images/vda.qcow2", "qcow2"),
              DomainDisk.of("vdb", "/images/vdb.qcow2", "qcow2"),
              new DomainDisk("sda", Optional.empty(), Optional.of("raw"), "cdrom", true, true),
              new DomainDisk("vdc", Optional.of("/images/ro.raw"), Optional.of("raw"), "disk", true, false)));

  /** A checkpoint tracking vda with a bitmap named after the checkpoint and leaving vdb untracked. */
  private static Checkpoint checkpoint(String name, String parent) {
    return Checkpoint.builder()
        .name(name)
        .parentName(parent)
        .creationTime(1)
        .domain(DOMAIN)
        .addDisk(CheckpointDisk.bitmap("vda", name))
        .addDisk(CheckpointDisk.untracked("vdb"))
        .build();
  }

  private final Map<String, BaseBackup> repository = new HashMap<>();
  private final Map<String, BitmapState> bitmaps = new HashMap<>();
  private long currentSize = SIZE;

  private void backedUp(Checkpoint c) {
    repository.put(c.name(), new BaseBackup("vm1/" + c.name(), c, Map.of("vda", SIZE, "vdb", SIZE)));
  }

  private BackupPlan plan(Checkpoint y, Map<String, Checkpoint> known, Set<String> excluded, boolean full)
      throws Exception {
    BackupPlanner planner = new BackupPlanner(name -> Optional.ofNullable(repository.get(name)), known);
    return planner.plan(y, excluded, full, disk -> new DiskSource() {
      @Override
      public String description() {
        return disk;
      }

      @Override
      public long virtualSize() {
        return currentSize;
      }

      @Override
      public BitmapState bitmap(String name) {
        return bitmaps.getOrDefault(name, BitmapState.MISSING);
      }

      // the planner decides from the size and the bitmaps only: it reads nothing
      @Override
      public void readFully(long offset, ByteBuffer dst) {
        throw new AssertionError("the planner read guest bytes");
      }

      @Override
      public List<Extent> allocation() {
        throw new AssertionError("the planner asked for the allocation");
      }

      @Override
      public List<Extent> dirtyExtents(List<String> bitmapNames) {
        throw new AssertionError("the planner asked for dirty extents");
      }

      @Override
      public void close() {
        throw new AssertionError("the planner closed a disk it did not open");
      }
    });
  }

  private static DiskPlan disk(BackupPlan plan, String name) {
    return plan.disks().stream().filter(d -> d.disk().equals(name)).findFirst().orElseThrow();
  }

  private static final BitmapState RECORDING = new BitmapState(true, false, false, true);
  private static final BitmapState DISABLED = new BitmapState(true, false, false, false);

  @Test
  void firstBackupIsFullAndSkipsReadOnlyAndEmptyDrives() throws Exception {
    BackupPlan plan = plan(checkpoint("cp1", null), Map.of(), Set.of(), false);
    assertEquals(DiskDecision.NO_BASE_BACKUP, disk(plan, "vda").decision());
    assertEquals(DiskDecision.NOT_TRACKED, disk(plan, "vdb").decision());
    assertEquals(DiskDecision.EMPTY, disk(plan, "sda").decision());
    assertEquals(DiskDecision.READ_ONLY, disk(plan, "vdc").decision());
    assertFalse(plan.isIncremental());
    assertTrue(plan.fallbacks().isEmpty());
    assertEquals(List.of("cp1"), plan.path());
  }

  @Test
  void modernLibvirtUsesTheBaseBitmapAlone() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    backedUp(cp1);
    bitmaps.put("cp1", RECORDING);
    bitmaps.put("cp2", RECORDING);
    BackupPlan plan = plan(checkpoint("cp2", "cp1"), Map.of("cp1", cp1), Set.of(), false);
    DiskPlan vda = disk(plan, "vda");
    assertEquals(DiskDecision.INCREMENTAL, vda.decision());
    assertEquals(List.of("cp1"), vda.bitmaps());
    assertEquals(List.of("cp1", "cp2"), plan.path());
    assertEquals("vm1/cp1", plan.base().orElseThrow().archiveId());
    assertEquals(DiskDecision.NOT_TRACKED, disk(plan, "vdb").decision(), "checkpoint='no' is copied in full");
  }

  @Test
  void oldLibvirtUnitesDisabledBitmapsUpToTheRecordingOne() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    Checkpoint cp3 = checkpoint("cp3", "cp2");
    backedUp(cp1);
    bitmaps.put("cp1", DISABLED);
    bitmaps.put("cp2", DISABLED);
    bitmaps.put("cp3", RECORDING);
    BackupPlan plan = plan(checkpoint("cp4", "cp3"), Map.of("cp2", cp2, "cp3", cp3), Set.of(), false);
    assertEquals(List.of("cp1", "cp2", "cp3"), disk(plan, "vda").bitmaps());
    assertEquals(List.of("cp1", "cp2", "cp3", "cp4"), plan.path());
  }

  @Test
  void incrementalOnTheNewestBackedUpAncestor() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    backedUp(cp1);
    backedUp(cp2);
    bitmaps.put("cp1", RECORDING);
    bitmaps.put("cp2", RECORDING);
    BackupPlan plan = plan(checkpoint("cp3", "cp2"), Map.of("cp1", cp1, "cp2", cp2), Set.of(), false);
    assertEquals(List.of("cp2"), disk(plan, "vda").bitmaps());
  }

  @Test
  void everyUnusableBitmapFallsBackToFullWithItsReason() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    backedUp(cp1);
    Map<BitmapState, DiskDecision> cases = Map.of(
        BitmapState.MISSING, DiskDecision.BITMAP_MISSING,
        new BitmapState(true, false, true, true), DiskDecision.BITMAP_IN_USE,
        new BitmapState(true, true, false, true), DiskDecision.BITMAP_GAP_IN_CHAIN,
        DISABLED, DiskDecision.BITMAP_NOT_RECORDING);
    for (Map.Entry<BitmapState, DiskDecision> c : cases.entrySet()) {
      bitmaps.put("cp1", c.getKey());
      bitmaps.put("cp2", c.getKey());
      BackupPlan plan = plan(checkpoint("cp2", "cp1"), Map.of(), Set.of(), false);
      DiskPlan vda = disk(plan, "vda");
      assertEquals(c.getValue(), vda.decision(), c.getKey().toString());
      assertTrue(vda.decision().isFallback());
      assertEquals(List.of(vda), plan.fallbacks());
      assertTrue(vda.reason().contains("'cp1'"), vda.reason());
    }
  }

  @Test
  void aMissingBitmapOfAnotherImageFileIsDiskReplacedButNotAfterAnExternalSnapshot() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    backedUp(cp1);
    DomainDefinition replaced = new DomainDefinition("<domain type='kvm'/>", "kvm", "vm1", Optional.empty(),
        List.of(DomainDisk.of("vda", "/images/vda-new.qcow2", "qcow2"), DomainDisk.of("vdb", "/images/vdb.qcow2", "qcow2")));
    DiskPlan vda = disk(plan(checkpoint("cp2", "cp1").toBuilder().domain(replaced).build(), Map.of(), Set.of(), false),
        "vda");
    assertEquals(DiskDecision.DISK_REPLACED, vda.decision());
    assertTrue(vda.decision().isFallback());
    assertTrue(vda.reason().contains("/images/vda.qcow2") && vda.reason().contains("/images/vda-new.qcow2"),
        vda.reason());

    // an external snapshot: the old image is the new one's backing file, as the domain declares
    String xml = "<domain type='kvm'><name>vm1</name><devices><disk type='file' device='disk'>"
        + "<source file='/images/vda.overlay'/><backingStore type='file'><format type='qcow2'/>"
        + "<source file='/images/vda.qcow2'/></backingStore><target dev='vda'/></disk></devices></domain>";
    DomainDefinition snapshot = new DomainDefinition(xml, "kvm", "vm1", Optional.empty(),
        List.of(DomainDisk.of("vda", "/images/vda.overlay", "qcow2"), DomainDisk.of("vdb", "/images/vdb.qcow2", "qcow2")));
    assertEquals(DiskDecision.BITMAP_MISSING,
        disk(plan(checkpoint("cp2", "cp1").toBuilder().domain(snapshot).build(), Map.of(), Set.of(), false), "vda")
            .decision());
    assertEquals(Optional.empty(), BackupPlanner.replacedImage(cp1, DOMAIN, "vda"), "same file");
  }

  @Test
  void unknownIntermediateCheckpointMeansFull() throws Exception {
    backedUp(checkpoint("cp1", null));
    bitmaps.put("cp1", RECORDING);
    BackupPlan plan = plan(checkpoint("cp3", "cp2"), Map.of(), Set.of(), false);
    DiskPlan vda = disk(plan, "vda");
    assertEquals(DiskDecision.CHECKPOINT_CHAIN_INCOMPLETE, vda.decision());
    assertTrue(vda.reason().contains("'cp2'"), vda.reason());
  }

  @Test
  void parentCycleInTheCheckpointDirectoryEndsTheWalk() throws Exception {
    Checkpoint a = checkpoint("a", "b");
    Checkpoint b = checkpoint("b", "a");
    BackupPlan plan = plan(checkpoint("y", "a"), Map.of("a", a, "b", b), Set.of(), false);
    assertEquals(DiskDecision.CHECKPOINT_CHAIN_INCOMPLETE, disk(plan, "vda").decision());
  }

  @Test
  void resizedDiskAndForcedFullAndExclusion() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    backedUp(cp1);
    bitmaps.put("cp1", RECORDING);
    Checkpoint cp2 = checkpoint("cp2", "cp1");
    assertEquals(DiskDecision.FORCED_FULL, disk(plan(cp2, Map.of(), Set.of(), true), "vda").decision());
    assertEquals(DiskDecision.EXCLUDED, disk(plan(cp2, Map.of(), Set.of("vda"), false), "vda").decision());
    currentSize = 2 * SIZE;
    DiskPlan resized = disk(plan(cp2, Map.of(), Set.of(), false), "vda");
    assertEquals(DiskDecision.SIZE_CHANGED, resized.decision());
    assertTrue(resized.reason().contains(Long.toString(2 * SIZE)), resized.reason());
  }

  @Test
  void diskUntrackedByAnIntermediateCheckpointMeansFull() throws Exception {
    Checkpoint cp1 = checkpoint("cp1", null);
    Checkpoint cp2 = cp1.toBuilder().name("cp2").parentName("cp1")
        .disks(List.of(CheckpointDisk.untracked("vda"), CheckpointDisk.untracked("vdb"))).build();
    backedUp(cp1);
    bitmaps.put("cp1", DISABLED);
    bitmaps.put("cp3", RECORDING);
    BackupPlan plan = plan(checkpoint("cp3", "cp2"), Map.of("cp2", cp2), Set.of(), false);
    assertEquals(DiskDecision.UNTRACKED_ON_PATH, disk(plan, "vda").decision());
  }

  @Test
  void decisionCodesRoundTrip() {
    for (DiskDecision d : DiskDecision.values()) {
      assertEquals(d, DiskDecision.fromCode(d.code()));
    }
    assertEquals("bitmap-in-use", DiskDecision.BITMAP_IN_USE.code());
  }
}
