package org.tidemark.vendor;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.ArchiveWriter;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.Progress;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.xml.CheckpointXml;

/**
 * A backup vendor's program, through the public API only: a full backup at checkpoint 1, an
 * incremental at checkpoint 2, verify both, restore the newest point. Compiled and run on its own
 * module path (module {@code org.tidemark.vendor}) by vendor-it's {@code VendorModulePathIT}.
 * Arguments: REPOSITORY IMAGE CHECKPOINT1.xml CHECKPOINT2.xml RESTORE_DIR. Prints one line per step.
 */
public final class VendorProgram {
  private VendorProgram() {}

  public static void main(String[] args) throws Exception {
    Repository repo = Repository.at(Path.of(args[0]));
    Path image = Path.of(args[1]);
    Checkpoint cp1 = CheckpointXml.parse(Files.readAllBytes(Path.of(args[2])), args[2], Set.of());
    Checkpoint cp2 = CheckpointXml.parse(Files.readAllBytes(Path.of(args[3])), args[3], Set.of());
    BackupResult full = backup(repo, cp1, Map.of(), image);
    BackupResult inc = backup(repo, cp2, Map.of(cp1.name(), cp1), image);
    for (BackupResult r : List.of(full, inc)) {
      System.out.println("backup: " + r.archive().getFileName() + (r.plan().isIncremental() ? " incremental" : " full"));
    }
    List<Finding> problems = new ArrayList<>(ArchiveVerifier.verify(full.archive()));
    problems.addAll(ArchiveVerifier.verify(inc.archive()));
    System.out.println("verified: 2 archives, " + problems.size() + " problems " + problems);
    RestoreResult restored = new RestoreRunner(repo).run(new RestoreRequest(cp2.domain().orElseThrow().name(),
        Optional.empty(), Optional.empty(), Path.of(args[4]), false), Progress.NONE);
    for (RestoreResult.DiskResult d : restored.disks()) {
      System.out.println("restored: " + d.disk() + " " + d.image());
    }
  }

  private static BackupResult backup(Repository repo, Checkpoint cp, Map<String, Checkpoint> others, Path image)
      throws Exception {
    BackupRequest request = new BackupRequest(cp, CheckpointXml.format(cp).getBytes(UTF_8), others,
        disk -> Images.open(image), Set.of(), false, Codec.ZSTD, ArchiveWriter.DEFAULT_CHUNK, "vendor 1.0");
    return new BackupRunner(repo).run(request, Progress.NONE);
  }
}
