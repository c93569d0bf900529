package org.tidemark.backup;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.tidemark.archive.ArchiveException;
import org.tidemark.archive.Repository;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;

/**
 * Fuzzes a restore from a mutated archive into a scratch folder. The repository holds the input
 * as {@code vm1/cp2.tar} beside a sound full backup {@code vm1/cp1.tar} it may be incremental on.
 * Only {@link ArchiveException} may escape (and EFBIG, a disk size the scratch file system cannot
 * hold); any other throwable, an OOM or a hang is a finding,
 * and so is a file written anywhere but the output folder, or a restored image whose size is not
 * the disk's virtual size.
 *
 * <p>Plain {@code mvn test} replays the committed inputs under {@code
 * RestoreFuzzTestInputs/restore/}; {@code JAZZER_FUZZ=1} fuzzes (see docs/reliability.md).
 */
class RestoreFuzzTest {
  private static final Path ROOT;
  private static final Path REPO;
  private static final Path INPUT;
  private static final Path OUT;

  static {
    try {
      ROOT = Files.createTempDirectory("tidemark-restore-fuzz");
      REPO = ROOT.resolve("repo");
      Files.createDirectories(REPO.resolve("vm1"));
      try (InputStream base = RestoreFuzzTest.class.getResourceAsStream("fuzz-restore-base.tar")) {
        Files.copy(base, REPO.resolve("vm1/cp1.tar"), StandardCopyOption.REPLACE_EXISTING);
      }
      INPUT = REPO.resolve("vm1/cp2.tar");
      OUT = ROOT.resolve("out");
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(ROOT)));
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "10m")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void restore(byte[] bytes) throws IOException {
    delete(OUT);
    Files.write(INPUT, bytes);
    RestoreRequest request = RestoreRequest.builder("vm1").build();
    try {
      RestoreResult result = new RestoreRunner(Repository.at(REPO)).run(request, RestoreTarget.folder(OUT, true), Progress.NONE);
      for (RestoreResult.DiskResult d : result.disks()) {
        if (!d.image().normalize().startsWith(OUT) || Files.size(d.image()) != d.virtualSize()) {
          throw new AssertionError("disk " + d.disk() + " restored to " + d.image() + " with "
              + Files.size(d.image()) + " bytes (expected " + d.virtualSize() + " in " + OUT + ")");
        }
      }
    } catch (ArchiveException expected) {
      // a typed refusal
    } catch (java.io.IOException e) {
      // A disk size the archive may hold (up to 2^56) but this file system cannot (ext4: 16 TiB)
      // is the file system's refusal, like a full disk, not the archive's fault.
      if (!"File too large".equals(e.getMessage())) {
        throw e;
      }
    }
    try (Stream<Path> all = Files.walk(ROOT)) {
      List<Path> stray = all.filter(p -> !p.startsWith(OUT) && !p.equals(ROOT) && !p.startsWith(REPO)).toList();
      if (!stray.isEmpty()) {
        throw new AssertionError("the restore wrote outside its output folder: " + stray);
      }
    }
    try (Stream<Path> repo = Files.list(REPO.resolve("vm1"))) {
      List<String> names = repo.map(p -> p.getFileName().toString()).sorted().toList();
      if (!names.equals(List.of("cp1.tar", "cp2.tar"))) {
        throw new AssertionError("the restore changed the repository: " + names);
      }
    }
  }

  private static void delete(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> all = Files.walk(p)) {
      for (Path q : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
