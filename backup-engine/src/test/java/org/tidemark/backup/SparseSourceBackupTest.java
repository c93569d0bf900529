package org.tidemark.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.qcow2.Qemu;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreRunner;

/**
 * A full backup of a sparse source costs its data, not its size: the holes of the file (as {@code
 * qemu-img map} reports them, from the file system's {@code SEEK_DATA}) are neither read nor
 * stored, and the restore is what {@code qemu-img compare} finds identical to the source.
 */
class SparseSourceBackupTest {
  @TempDir Path dir;

  /** A raw file of {@code size} bytes with random data written at random 4 KiB-aligned places, the rest holes. */
  private static long sparseRaw(Path file, long size, Random r, int writes) throws Exception {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(1), size - 1); // the size, without allocating more than a block
      for (int i = 0; i < writes; i++) {
        byte[] b = new byte[(1 + r.nextInt(64)) * 4096];
        r.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), (r.nextLong() & Long.MAX_VALUE) % ((size - b.length) / 4096) * 4096);
      }
      ch.force(true);
    }
    return size;
  }

  /** Bytes qemu-img map calls data (not zero) in the raw file. */
  private static long qemuDataBytes(Path file) throws Exception {
    long n = 0;
    for (com.fasterxml.jackson.databind.JsonNode e : new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        Qemu.run("qemu-img", "map", "--output=json", "-f", "raw", file.toString()))) {
      n += e.get("data").asBoolean() ? e.get("length").asLong() : 0;
    }
    return n;
  }

  private BackupResult fullBackup(Path image, String format) throws Exception {
    Checkpoint y = Checkpoint.builder().name("cp1").creationTime(1000)
        .domain(new DomainDefinition("<domain type='kvm'>\n  <name>vm</name>\n</domain>", "kvm", "vm", Optional.empty(),
            List.of(DomainDisk.of("vda", image.toString(), format))))
        .addDisk(CheckpointDisk.untracked("vda")).build();
    Repository repo = Repository.at(dir.resolve("repo"));
    BackupResult result = new BackupRunner(repo).run(BackupRequest.builder(y,
        disk -> Images.open(image, Optional.of(format))).codec(Codec.ZSTD).chunkSize(1 << 20).toolVersion("test").build(),
        Progress.NONE);
    assertEquals(List.of(), ArchiveVerifier.verify(result.archive()));
    Path out = dir.resolve("restore");
    new RestoreRunner(repo).run(RestoreRequest.builder("vm").checkpoint("cp1").build(), RestoreTarget.folder(out, false), Progress.NONE);
    assertEquals("", Qemu.run("qemu-img", "compare", "-q", "-f", format, "-F", "raw", image.toString(),
        out.resolve("vda.raw").toString()).strip());
    return result;
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3})
  void aFullBackupOfASparseRawDiskReadsAndStoresItsDataOnly(long seed) throws Exception {
    Path raw = dir.resolve("vda.raw");
    long size = sparseRaw(raw, 256L << 20, new Random(seed), 12);
    long data = qemuDataBytes(raw);
    assertTrue(data < size / 8, "the disk is sparse: " + data + " of " + size + " bytes are data");
    BackupResult.DiskResult d = fullBackup(raw, "raw").disks().get(0);
    assertEquals(data, d.bytesRead(), "guest bytes read: the data qemu-img map reports, not the size " + size);
    assertTrue(d.bytesStored() <= data + (data >> 4), "bytes stored " + d.bytesStored() + " for " + data + " of random data");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sparse-1m/1", "sparse-64k-compressed/2", "chain-raw/3", "sparse-data-file/4", "extended-l2/5"})
  void aFullBackupOfAQcow2DiskReadsNoneOfWhatQemuCallsZero(String kind) throws Exception {
    Path img = org.tidemark.qcow2.HoleyImages.make(dir.resolve("images"), kind);
    List<org.tidemark.disk.Extent> qemu = Qemu.zeroMap(img);
    long data = qemu.stream().filter(e -> !e.zero()).mapToLong(org.tidemark.disk.Extent::length).sum();
    long clustersWritten = Qemu.map(img).stream().filter(e -> !e.zero()).mapToLong(org.tidemark.disk.Extent::length).sum();
    if (kind.startsWith("chain-raw")) { // the holes of the raw backing file read as zeros
      assertTrue(data < (8L << 20), kind + ": " + data + " bytes of data in 32 MiB");
    } else {
      assertTrue(data < clustersWritten, kind + ": QEMU calls part of the written clusters zero (" + data + " of "
          + clustersWritten + ")");
    }
    BackupResult.DiskResult d = fullBackup(img, "qcow2").disks().get(0);
    assertEquals(data, d.bytesRead(), "guest bytes read: what qemu-img map says holds data and is not zero");
  }
}
