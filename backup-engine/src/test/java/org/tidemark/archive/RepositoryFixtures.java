package org.tidemark.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.List;

/**
 * Repositories of many tiny archives for the tests of scanning and chain resolution (in the
 * engine's test jar, for the command's tests too), and the count of archives {@link Repository}
 * opened.
 */
public final class RepositoryFixtures {
  private RepositoryFixtures() {}

  /**
   * Writes one chain of {@code n} backups of a 4 KiB disk into {@code root/domain}: {@code
   * cp00000.tar} full, each next one incremental on the one before (no chunks: the extents are
   * zeros), created one second apart.
   *
   * @return the archives, oldest first
   */
  public static List<Path> chain(Path root, String domain, int n) throws IOException {
    Path dir = Files.createDirectories(root.resolve(domain));
    Path[] out = new Path[n];
    String parent = null;
    for (int i = 0; i < n; i++) {
      String cp = String.format("cp%05d", i);
      DiskManifest d = parent == null
          ? new DiskManifest("vda", DiskManifest.FULL, DiskDecision.NO_BASE_BACKUP, "first", 4096, 512,
              List.of(new ExtentRecord(0, 4096, true)))
          : new DiskManifest("vda", DiskManifest.INCREMENTAL, DiskDecision.INCREMENTAL, "changed", 4096, 512,
              List.of(new ExtentRecord(0, 512, true)));
      Manifest m = Manifest.of("test", domain, cp, 1_700_000_000L + i,
          Optional.ofNullable(parent == null ? null : new ParentRef(parent, parent + Repository.SUFFIX)), List.of(d));
      try (ArchiveWriter w = ArchiveWriter.create(dir.resolve(cp + Repository.SUFFIX), checkpoint(domain, cp), m)) {
        out[i] = w.commit();
      }
      parent = cp;
    }
    return List.of(out);
  }

  /** The checkpoint XML of an archive, as libvirt dumps a checkpoint. */
  public static byte[] checkpoint(String domain, String name) {
    return ("<domaincheckpoint>\n  <name>" + name + "</name>\n  <creationTime>1</creationTime>\n  <domain type='kvm'>\n"
        + "    <name>" + domain + "</name>\n  </domain>\n</domaincheckpoint>\n").getBytes(StandardCharsets.UTF_8);
  }

  /** How many archives {@link Repository} has opened in this JVM so far (take the difference around a call). */
  public static long opens() {
    return Repository.opens();
  }
}
