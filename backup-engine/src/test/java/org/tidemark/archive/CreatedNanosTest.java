package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.internal.JsonText;
import org.tidemark.internal.JsonText.JsonShapeException;
import org.tidemark.qcow2.Qemu;

/**
 * The start of a backup to the nanosecond: {@code createdNanos} in manifests of format version 3,
 * absent from versions 1 and 2 (whole seconds), which are still written for a backup started on a
 * whole second and still read. GNU tar lists the entries of a version 3 archive with the whole
 * second as their time.
 */
class CreatedNanosTest {
  private static final String HEAD = "{\"format\":\"tidemark-backup\",\"formatVersion\":%d,\"toolVersion\":\"test\","
      + "\"domain\":\"vm1\",\"checkpoint\":\"cp1\",\"created\":1700000000,%s\"disks\":[]}";

  @TempDir Path dir;

  private static byte[] manifest(int version, String more) {
    return String.format(HEAD, version, more).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aBackupStartedWithinASecondIsVersionThreeAndReadsBackToTheNanosecond() throws Exception {
    Instant t = Instant.ofEpochSecond(1_700_000_000L, 123_456_789);
    Manifest m = Manifest.of("test", "vm1", "cp1", t, Optional.empty(), List.of());
    assertEquals(3, m.formatVersion());
    assertEquals(1_700_000_000L, m.created(), "created stays whole seconds");
    byte[] json = ArchiveJson.manifest(m);
    assertEquals(JsonText.parse(manifest(3, "\"createdNanos\":123456789,")), JsonText.parse(json),
        "the grammar of docs/archive-format.md");
    assertEquals(m, ArchiveJson.readManifest(json));

    Path p = dir.resolve("cp1.tar");
    try (ArchiveWriter w = ArchiveWriter.create(p, ArchiveFixtures.CHECKPOINT, m)) {
      w.commit();
    }
    assertEquals(List.of(), ArchiveVerifier.verify(p));
    try (ArchiveReader r = ArchiveReader.open(p)) {
      assertEquals(t, r.manifest().createdAt());
      assertEquals(3, r.manifest().formatVersion());
    }
    String listing = Qemu.run("tar", "--utc", "--full-time", "-tvf", p.toString());
    assertTrue(listing.contains("2023-11-14 22:13:20 checkpoint.xml"), listing);
  }

  @Test
  void aBackupStartedOnAWholeSecondIsWrittenAsVersionTwoAsBefore() throws Exception {
    Manifest m = Manifest.of("test", "vm1", "cp1", Instant.ofEpochSecond(1_700_000_000L), Optional.empty(), List.of());
    assertEquals(2, m.formatVersion());
    assertEquals(Manifest.of("test", "vm1", "cp1", 1_700_000_000L, Optional.empty(), List.of()), m);
    byte[] json = ArchiveJson.manifest(m);
    assertFalse(new String(json, StandardCharsets.UTF_8).contains("createdNanos"));
    assertEquals(JsonText.parse(manifest(2, "")), JsonText.parse(json));
  }

  @Test
  void theOldFormsStillReadAsWholeSeconds() throws Exception {
    for (int version : new int[] {1, 2}) {
      Manifest m = ArchiveJson.readManifest(manifest(version, ""));
      assertEquals(version, m.formatVersion());
      assertEquals(Instant.ofEpochSecond(1_700_000_000L), m.createdAt());
    }
    assertEquals(Instant.ofEpochSecond(1_700_000_000L), ArchiveJson.readManifest(manifest(3, "\"createdNanos\":0,"))
        .createdAt());
  }

  @Test
  void aMissingMisplacedOrOutOfRangeCreatedNanosIsRefusedNamingIt() {
    String[][] cases = {
        {"3", "", "createdNanos: missing (expected an integer)"},
        {"2", "\"createdNanos\":5,", "createdNanos: unknown field"},
        {"3", "\"createdNanos\":1000000000,", "createdNanos: 1000000000 is out of range (expected 0 to 999999999)"},
        {"3", "\"createdNanos\":-1,", "createdNanos: -1 is out of range (expected 0 to 999999999)"},
        {"3", "\"createdNanos\":\"5\",", "createdNanos: expected an integer, found a string"},
        {"3", "\"createdNanos\":5.5,", "5.5"},
    };
    for (String[] c : cases) {
      JsonShapeException e = assertThrows(JsonShapeException.class,
          () -> ArchiveJson.readManifest(manifest(Integer.parseInt(c[0]), c[1])), c[1]);
      assertTrue(e.getMessage().contains(c[2]), c[1] + ": " + e.getMessage());
    }
  }

  @Test
  void aManifestOfWholeSecondsCannotCarryNanoseconds() {
    assertThrows(IllegalArgumentException.class, () -> new Manifest(Manifest.FORMAT, 2, "t", "vm1", "cp1", 1, 5,
        Optional.empty(), List.of()));
    assertThrows(IllegalArgumentException.class, () -> new Manifest(Manifest.FORMAT, 3, "t", "vm1", "cp1", 1,
        1_000_000_000, Optional.empty(), List.of()));
  }
}
