package org.tidemark.vendor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryVerifier;
import org.tidemark.backup.BackupRequest;
import org.tidemark.backup.BackupRunner;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.image.Images;
import org.tidemark.model.Checkpoint;
import org.tidemark.restore.ImageFormat;
import org.tidemark.restore.RestoreRequest;
import org.tidemark.restore.RestoreRunner;
import org.tidemark.restore.RestoreTarget;
import org.tidemark.xml.CheckpointXml;

/**
 * A backup vendor's program through Tidemark's public API only: backs up each checkpoint (a full,
 * then incrementals) of a domain whose disks are the images in {@code images} ({@code DISK.qcow2}),
 * restores the newest point into {@code out} as {@code DISK.img} through its own restore target,
 * and verifies the repository; the chunk work runs on its own executor, under one cancellation.
 */
public final class VendorProgram {
  private VendorProgram() {}

  /** Runs the program: {@code checkpoints} are checkpoint XML files, oldest first. */
  public static RepositoryVerifier.Report run(Path repo, List<Path> checkpoints, Path images, Path out) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      EngineOptions options = EngineOptions.builder().executor(pool).build();
      Cancellation cancel = Cancellation.create(); // another thread may call cancel.cancel()
      Repository repository = Repository.at(repo);
      List<Checkpoint> known = new ArrayList<>();
      for (Path file : checkpoints) {
        Checkpoint cp = CheckpointXml.parse(Files.readAllBytes(file), file.toString(), Set.of(), options.grammar());
        BackupRequest request = BackupRequest.builder(cp, disk -> Images.open(images.resolve(disk + ".qcow2")))
            .knownCheckpoints(known).build();
        new BackupRunner(repository, options).run(request, Progress.NONE, cancel);
        known.add(cp);
      }
      RestoreTarget target = new RestoreTarget() {
        @Override public Path location(String disk, ImageFormat format) { return out.resolve(disk + ".img"); }

        @Override public DiskOutput open(String disk, long size, ImageFormat f) throws java.io.IOException {
          return DiskOutput.newFile(location(disk, f), size); // a new sparse file; a block device works too
        }
      };
      String domain = known.get(0).domain().orElseThrow().name();
      new RestoreRunner(repository, options).run(RestoreRequest.builder(domain).build(), target, Progress.NONE, cancel);
      return RepositoryVerifier.verify(repository, Optional.of(domain), Optional.empty(), options, Progress.NONE, cancel);
    } finally {
      pool.shutdown();
    }
  }
}
