package org.tidemark.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.archive.ArchiveVerifier;
import org.tidemark.archive.Finding;
import org.tidemark.archive.Repository;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupResult;
import org.tidemark.backup.BackupRunner;
import org.tidemark.backup.Progress;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.restore.RestoreResult;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.xml.CheckpointXml;
import org.tidemark.xml.CheckpointXmlException;

/**
 * A small library example, compiled and run by the tests (the guide's is org.tidemark.vendor.VendorProgram in
 * backup-engine): read a checkpoint, back up
 * its disks, verify the archive, restore it.
 */
public final class LibraryExample {
  private LibraryExample() {}

  /** Reads a checkpoint as {@code virsh checkpoint-dumpxml} wrote it (validated, REDEFINE rules). */
  public static Checkpoint readCheckpoint(Path file) throws IOException, CheckpointXmlException {
    return CheckpointXml.parse(Files.readAllBytes(file), file.toString(), Set.of());
  }

  /** Backs up checkpoint {@code y}, reading its disk {@code vda} from {@code image}. */
  public static BackupResult backup(Path repo, Checkpoint y, Map<String, Checkpoint> others, Path image)
      throws IOException {
    BackupRequest request = BackupRequest.builder(y,
        disk -> Images.open(image, Optional.of("qcow2"))) // read-only, always; Optional.empty(): probe the format
        .knownCheckpoints(others).toolVersion("example").build();
    return new BackupRunner(Repository.at(repo)).run(request, Progress.NONE);
  }

  /** Every problem in an archive; empty when it is sound. */
  public static List<Finding> verify(Path archive) throws IOException {
    return ArchiveVerifier.verify(archive);
  }

  /** Restores the newest point of a domain's chain into {@code directory}. */
  public static RestoreResult restore(Path repo, String domain, Path directory) throws IOException {
    return new RestoreRunner(Repository.at(repo)).run(
        RestoreRequest.builder(domain).build(), RestoreTarget.folder(directory, false), Progress.NONE);
  }
}
