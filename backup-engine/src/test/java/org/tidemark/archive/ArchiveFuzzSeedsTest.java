package org.tidemark.archive;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed archives the archive and restore fuzz targets start from are what {@link ArchiveWriter}
 * writes today, byte for byte, and are sound. When the format changes on purpose, regenerate them
 * with {@code mvn -pl backup-engine test -Dtest=ArchiveFuzzSeedsTest -Dtidemark.writeFuzzSeeds=true}.
 */
class ArchiveFuzzSeedsTest {
  static final Path RESOURCES = Path.of("src/test/resources/org/tidemark");
  static final Path ARCHIVE_SEEDS = RESOURCES.resolve("archive/ArchiveReaderFuzzTestInputs/readAndVerify");
  static final Path RESTORE_SEEDS = RESOURCES.resolve("backup/RestoreFuzzTestInputs/restore");
  /** The full backup cp1 every restore input may build on, as {@code vm1/cp1.tar}. */
  static final Path RESTORE_BASE = RESOURCES.resolve("backup/fuzz-restore-base.tar");

  @TempDir Path dir;

  static byte[] checkpoint(String name) {
    return ("<domaincheckpoint>\n  <name>" + name + "</name>\n  <creationTime>1</creationTime>\n"
        + "  <domain type='kvm'>\n    <name>vm1</name>\n  </domain>\n</domaincheckpoint>\n").getBytes(StandardCharsets.UTF_8);
  }

  private Path write(String name, Manifest m, Map<String, ArchiveFixtures.Disk> data, int chunk, Codec codec)
      throws IOException {
    Path p = dir.resolve(name + "-" + System.nanoTime() + ".tar");
    try (ArchiveWriter w = ArchiveWriter.create(p, checkpoint(m.checkpoint()), m)) {
      for (DiskManifest d : m.disks()) {
        ArchiveFixtures.Disk disk = data.get(d.name());
        disk.extents.clear();
        disk.extents.addAll(d.extents());
        disk.write(w, chunk, codec);
      }
      return w.commit();
    }
  }

  /** Every seed, by its path under src/test/resources. */
  Map<Path, byte[]> seeds() throws IOException {
    Map<Path, byte[]> out = new LinkedHashMap<>();
    ArchiveFixtures.Disk vda = new ArchiveFixtures.Disk("vda", 1, 4096, 5);
    ArchiveFixtures.Disk vdb = ArchiveFixtures.Disk.dense("vdb", 2, 2048);
    List<ExtentRecord> vdaExtents = new ArrayList<>(vda.extents);
    Manifest full = Manifest.of("seed", "vm1", "cp1", 1, Optional.empty(),
        List.of(vda.manifest(DiskManifest.FULL), vdb.manifest(DiskManifest.FULL)));
    for (Codec codec : Codec.values()) {
      out.put(ARCHIVE_SEEDS.resolve("seed-full-two-disks-" + codec.id()),
          bytes(write("full", full, Map.of("vda", vda, "vdb", vdb), 1024, codec)));
    }
    // the restore base: cp1, full, created first
    out.put(RESTORE_BASE, bytes(write("base", full, Map.of("vda", vda, "vdb", vdb), 1024, Codec.ZSTD)));
    // cp2 incremental on cp1: vda's bytes [1024, 2560) changed (data), [3072, 3584) now zeros
    List<ExtentRecord> changed = List.of(new ExtentRecord(1024, 1536, false), new ExtentRecord(3072, 512, true));
    Manifest incremental = Manifest.of("seed", "vm1", "cp2", 2, Optional.of(new ParentRef("cp1", "cp1.tar")),
        List.of(new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "changed since cp1", 4096, 512, changed),
            new DiskManifest("vdb", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "unchanged", 2048, 512, List.of())));
    byte[] inc = bytes(write("inc", incremental, Map.of("vda", vda, "vdb", vdb), 1024, Codec.DEFLATE));
    out.put(ARCHIVE_SEEDS.resolve("seed-incremental-deflate"), inc);
    out.put(RESTORE_SEEDS.resolve("seed-incremental-on-cp1"), inc);
    Manifest fullCp2 = Manifest.of("seed", "vm1", "cp2", 2, Optional.empty(), List.of(
        new DiskManifest("vda", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, "first", 4096, 512, vdaExtents)));
    out.put(RESTORE_SEEDS.resolve("seed-full-one-disk"), bytes(write("full-cp2", fullCp2, Map.of("vda", vda), 2048, Codec.NONE)));
    // large metadata: 512 extents and about 260 chunks of at most 512 bytes (index.bin of 6 KiB)
    ArchiveFixtures.Disk scattered = new ArchiveFixtures.Disk("vda", 9, 128 << 10, 512);
    Manifest many = Manifest.of("seed", "vm1", "cp1", 1, Optional.empty(), List.of(scattered.manifest(DiskManifest.FULL)));
    out.put(ARCHIVE_SEEDS.resolve("seed-many-extents-and-chunks"),
        bytes(write("many", many, Map.of("vda", scattered), 512, Codec.ZSTD)));
    // format version 1 (index.json, aligned chunks), which readers still read
    Path v2 = write("v2", full, Map.of("vda", vda, "vdb", vdb), 1024, Codec.ZSTD);
    try {
      out.put(ARCHIVE_SEEDS.resolve("seed-format-version-1"), ArchiveFixtures.asVersionOne(v2, true));
    } catch (Exception e) {
      throw new IOException(e);
    }
    return out;
  }

  /** A regression input, and what verify must say of it. */
  record Hostile(byte[] bytes, String problem) {}

  /**
   * Regression inputs: an archive the writer writes from a hostile manifest, which readers must
   * refuse; and a sound archive with one chunk's tar header edited (checksum fixed) into each of
   * {@link TarTamper}'s hostile entries, which verify must report.
   */
  Map<Path, Hostile> hostile() throws IOException {
    Map<Path, Hostile> out = new LinkedHashMap<>();
    // the writer refuses a hostile name itself: written with a harmless name of the same length, then
    // renamed everywhere (manifest, chunk entry names, their tar header checksums) and resealed
    ArchiveFixtures.Disk escaping = ArchiveFixtures.Disk.dense("xx_escaped", 3, 1024);
    Manifest m = Manifest.of("seed", "vm1", "cp2", 2, Optional.empty(), List.of(escaping.manifest(DiskManifest.FULL)));
    byte[] archive = bytes(write("escaping", m, Map.of("xx_escaped", escaping), 1024, Codec.NONE));
    out.put(RESTORE_SEEDS.resolve("disk-name-escapes-output-folder"),
        new Hostile(renamed(archive, "xx_escaped", "../escaped"), "cannot name a file"));
    Map<Path, byte[]> seeds = seeds();
    byte[] sound = seeds.get(ARCHIVE_SEEDS.resolve("seed-full-two-disks-" + Codec.NONE.id()));
    Path copy = Files.write(dir.resolve("sound.tar"), sound);
    ChunkRecord c;
    try (ArchiveReader r = ArchiveReader.open(copy)) {
      c = r.chunks().get(0);
    }
    String entry = ArchiveWriter.chunkEntryName(c.disk(), c.offset(), Codec.NONE);
    int at = (int) c.dataOffset() - TarHeaders.RECORD;
    for (TarTamper t : TarTamper.values()) {
      out.put(ARCHIVE_SEEDS.resolve("tar-header-chunk-" + t.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-')),
          new Hostile(t.apply(sound, at), "tar header of '" + entry + "' at " + at + ": "));
    }
    return out;
  }

  /** {@code archive} with every occurrence of {@code from} replaced by {@code to} (same length), headers and seal fixed. */
  static byte[] renamed(byte[] archive, String from, String to) {
    byte[] a = from.getBytes(StandardCharsets.US_ASCII);
    byte[] b = to.getBytes(StandardCharsets.US_ASCII);
    byte[] out = archive.clone();
    for (int i = 0; i + a.length <= out.length; i++) {
      if (java.util.Arrays.equals(out, i, i + a.length, a, 0, a.length)) {
        System.arraycopy(b, 0, out, i, b.length);
        int record = i / TarHeaders.RECORD * TarHeaders.RECORD;
        if (i - record < 100 && TarHeaders.checksumProblem(java.util.Arrays.copyOfRange(archive, record,
            record + TarHeaders.RECORD)) == null) { // a name in a header: its checksum follows the new name
          long sum = 0;
          for (int k = 0; k < TarHeaders.RECORD; k++) {
            sum += k >= 148 && k < 156 ? ' ' : out[record + k] & 0xff;
          }
          System.arraycopy(String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII), 0, out, record + 148, 8);
        }
      }
    }
    return ArchiveReaderFuzzTest.reseal(out);
  }

  /**
   * Restore inputs an editor could make from the sound ones: the manifest changed and the archive
   * resealed ({@link Tampering}). Each case of {@link Tampering#cases()} edits the incremental seed
   * (on cp1) when it edits cp2 there, the full one-disk seed when it edits cp1; a restore must
   * refuse every one.
   */
  Map<Path, byte[]> tampered() throws IOException {
    Map<Path, byte[]> sound = seeds();
    Map<Path, byte[]> out = new LinkedHashMap<>();
    for (Tampering.Case c : Tampering.cases()) {
      byte[] from = sound.get(RESTORE_SEEDS.resolve(c.archive().equals("cp2.tar") ? "seed-incremental-on-cp1" : "seed-full-one-disk"));
      Path p = Files.write(dir.resolve("tampered.tar"), from);
      Tampering.rewriteManifest(p, c.edit());
      out.put(RESTORE_SEEDS.resolve("resealed-" + c.name()), bytes(p));
    }
    return out;
  }

  @Test
  void committedResealedSeedsAreRefusedByRestoreBeforeWriting() throws IOException {
    boolean write = Boolean.getBoolean("tidemark.writeFuzzSeeds");
    for (Map.Entry<Path, byte[]> s : tampered().entrySet()) {
      if (write) {
        Files.write(s.getKey(), s.getValue());
      }
      assertArrayEquals(s.getValue(), Files.readAllBytes(s.getKey()), s.getKey().toString());
      Path repo = dir.resolve("repo-" + s.getKey().getFileName());
      Files.createDirectories(repo.resolve("vm1"));
      Files.copy(RESTORE_BASE, repo.resolve("vm1/cp1.tar"));
      Files.write(repo.resolve("vm1/cp2.tar"), s.getValue());
      ArchiveReader.open(repo.resolve("vm1/cp2.tar")).close(); // the seal matches
      Path out = dir.resolve("out-" + s.getKey().getFileName());
      org.tidemark.restore.RestoreRequest request = org.tidemark.restore.RestoreRequest.builder("vm1").build();
      ArchiveInconsistentException e = org.junit.jupiter.api.Assertions.assertThrows(ArchiveInconsistentException.class,
          () -> new org.tidemark.restore.RestoreRunner(Repository.at(repo)).run(request,
              org.tidemark.restore.RestoreTarget.folder(out, false), org.tidemark.backup.Progress.NONE),
          s.getKey().toString());
      org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("cp2.tar"), e.getMessage());
      org.junit.jupiter.api.Assertions.assertFalse(Files.exists(out), s.getKey() + ": the refused restore wrote");
    }
  }

  private static byte[] bytes(Path p) throws IOException {
    return Files.readAllBytes(p);
  }

  @Test
  void committedSeedsAreWhatTheWriterWritesAndAreSound() throws IOException {
    Map<Path, byte[]> seeds = seeds();
    boolean write = Boolean.getBoolean("tidemark.writeFuzzSeeds");
    for (Map.Entry<Path, byte[]> s : seeds.entrySet()) {
      if (write) {
        Files.createDirectories(s.getKey().getParent());
        Files.write(s.getKey(), s.getValue());
      }
      assertArrayEquals(s.getValue(), Files.readAllBytes(s.getKey()),
          s.getKey() + " differs from what ArchiveWriter writes now; regenerate with -Dtidemark.writeFuzzSeeds=true");
      Path copy = Files.write(dir.resolve("check.tar"), s.getValue());
      assertEquals(List.of(), ArchiveVerifier.verify(copy), s.getKey().toString());
    }
    for (Map.Entry<Path, Hostile> s : hostile().entrySet()) {
      if (write) {
        Files.write(s.getKey(), s.getValue().bytes());
      }
      assertArrayEquals(s.getValue().bytes(), Files.readAllBytes(s.getKey()), s.getKey().toString());
      Path copy = Files.write(dir.resolve("check.tar"), s.getValue().bytes());
      List<Finding> findings = ArchiveVerifier.verify(copy);
      assertEquals(1, findings.size(), findings.toString());
      org.junit.jupiter.api.Assertions.assertTrue(findings.get(0).problem().contains(s.getValue().problem()),
          findings.toString());
    }
  }
}
