package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.qcow2.Qemu;

/** The papercuts issue 19 found, each with what the command now says or does. */
class PapercutsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path SAMPLE = Path.of("..", "sample");
  @TempDir Path dir;
  private final List<Path> mounts = new ArrayList<>();

  @AfterEach
  void unmount() throws Exception {
    for (Path m : mounts) {
      sh("umount", m.toString());
    }
  }

  private static void sh(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
    if (p.exitValue() != 0) {
      fail(String.join(" ", command) + " failed: " + out + " (the test mounts a small tmpfs: it needs root, as the live"
          + " tests do)");
    }
  }

  /** A tmpfs of {@code mib} MiB: a small file system of known size. */
  private Path smallFileSystem(String name, int mib) throws Exception {
    Path m = Files.createDirectories(dir.resolve(name));
    sh("mount", "-t", "tmpfs", "-o", "size=" + mib + "m", "tmpfs", m.toString());
    mounts.add(m);
    return m;
  }

  private Cli.Result backupCp1(Path repo, String... more) {
    return Cli.run(Stream.concat(Stream.of("backup", "--repo", repo.toString(), "--checkpoint",
        SAMPLE.resolve("checkpoints/cp1.xml").toString(), "--disk", "vda=" + SAMPLE.resolve("vda.qcow2")), Stream.of(more))
        .toArray(String[]::new));
  }

  /** backup has no --force (an archive is never replaced): its message says what to do instead. */
  @Test
  void backingUpACheckpointTwiceSaysSoWithoutOfferingForce() {
    Path repo = dir.resolve("repo");
    assertEquals(ExitCodes.OK, backupCp1(repo, "-q").code());
    Cli.Result again = backupCp1(repo);
    assertEquals(ExitCodes.WOULD_OVERWRITE, again.code(), again.toString());
    assertTrue(again.err().startsWith("tidemark: " + repo.resolve("sample/cp1.tar")
        + ": the repository already has a backup of checkpoint 'cp1'"), again.toString());
    assertFalse(again.err().contains("--force"), again.toString());
  }

  @Test
  void restoringToARegularFileSaysItIsNotAFolderWithOrWithoutForce() throws Exception {
    Path repo = dir.resolve("repo");
    assertEquals(ExitCodes.OK, backupCp1(repo, "-q").code());
    Path file = Files.writeString(dir.resolve("notes.txt"), "keep me");
    for (String[] force : new String[][] {{}, {"--force"}}) {
      List<String> args = new ArrayList<>(List.of("restore", "--repo", repo.toString(), "--domain", "sample", "--to",
          file.toString()));
      args.addAll(List.of(force));
      Cli.Result r = Cli.run(args.toArray(String[]::new));
      assertEquals(ExitCodes.USAGE, r.code(), r.toString());
      assertTrue(r.err().startsWith("tidemark: --to " + file + ": is a file, not a folder"), r.toString());
      assertEquals("keep me", Files.readString(file));
    }
  }

  /**
   * Two disks of 64 MiB restoring 3.5 MiB of data each: refused on 4 MiB before anything is written
   * (before, the first disk was written, then the second failed); done on 10 MiB, which holds the
   * data but not the virtual sizes (the check counts what a sparse restore writes).
   */
  @Test
  void aRestoreChecksTheFreeSpaceOfItsFileSystemFirst() throws Exception {
    TwoDiskSample sample = new TwoDiskSample(dir);
    sample.backup("cp1", ExitCodes.OK, "-q");
    Path small = smallFileSystem("small", 4);
    Cli.Result r = Cli.run("restore", "--repo", sample.repo.toString(), "--domain", "sample", "--to",
        small.resolve("vm").toString(), "--json");
    assertEquals(ExitCodes.IO_ERROR, r.code(), r.toString());
    assertTrue(r.err().startsWith("tidemark: " + small.resolve("vm") + ": not enough space for the restore: its raw images"
        + " take up to 7.0 MiB"), r.toString());
    assertTrue(r.err().contains("the file system " + small + " (tmpfs)"), r.toString());
    assertEquals("InsufficientSpaceException", JSON.readTree(r.out()).get("error").get("type").asText());
    try (Stream<Path> left = Files.list(small)) {
      assertEquals(List.of(), left.toList(), "nothing written");
    }
    Path enough = smallFileSystem("enough", 10);
    for (String format : new String[] {"raw", "qcow2"}) {
      Path to = enough.resolve(format);
      Cli.Result ok = Cli.run("restore", "--repo", sample.repo.toString(), "--domain", "sample", "--to", to.toString(),
          "--format", format, "-q");
      assertEquals(ExitCodes.OK, ok.code(), ok.toString());
      Qemu.run("qemu-img", "compare", "-f", "qcow2", "-F", format, sample.vdb.toString(), to.resolve("vdb." + format).toString());
      Files.walk(to).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Test
  void runningOutOfSpaceNamesTheFileAndItsFileSystem() throws Exception {
    Path repo = smallFileSystem("repo", 1);
    Cli.Result r = backupCp1(repo, "-q");
    assertEquals(ExitCodes.IO_ERROR, r.code(), r.toString());
    assertTrue(r.err().startsWith("tidemark: " + repo.resolve("sample/cp1.tar") + ": No space left on device: the file"
        + " system " + repo + " (tmpfs), tmpfs is full"), r.toString());
  }

  /**
   * A consolidation that fills the file system names the archive and the file system, as a backup
   * does, and leaves the point's archive as it was, with nothing else in the folder.
   */
  @Test
  void aConsolidationOutOfSpaceNamesTheArchiveAndItsFileSystemAndKeepsTheArchive() throws Exception {
    Path built = dir.resolve("built");
    assertEquals(ExitCodes.OK, backupCp1(built, "-q").code());
    Cli.Result cp2 = Cli.run("backup", "-q", "--repo", built.toString(), "--checkpoint",
        SAMPLE.resolve("checkpoints/cp2.xml").toString(), "--checkpoint-dir", SAMPLE.resolve("checkpoints").toString(),
        "--disk", "vda=" + SAMPLE.resolve("vda.qcow2"));
    assertEquals(ExitCodes.OK, cp2.code(), cp2.toString());
    long chain = Files.size(built.resolve("sample/cp1.tar")) + Files.size(built.resolve("sample/cp2.tar"));
    // room for the chain but not for a full archive of cp2 beside it
    Path repo = smallFileSystem("full", (int) (chain >> 20) + 1);
    Files.createDirectories(repo.resolve("sample"));
    try (Stream<Path> files = Files.list(built.resolve("sample"))) {
      for (Path f : files.toList()) {
        Files.copy(f, repo.resolve("sample").resolve(f.getFileName()));
      }
    }
    byte[] before = Files.readAllBytes(repo.resolve("sample/cp2.tar"));
    assertTrue(Files.getFileStore(repo).getUsableSpace() < Files.size(built.resolve("sample/cp1.tar")),
        "the test needs less room than a full archive: " + Files.getFileStore(repo).getUsableSpace());

    Cli.Result r = Cli.run("consolidate", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp2");
    assertEquals(ExitCodes.IO_ERROR, r.code(), r.toString());
    assertTrue(r.err().startsWith("tidemark: " + repo.resolve("sample/cp2.tar") + ": No space left on device: the file"
        + " system " + repo + " (tmpfs), tmpfs is full"), r.toString());
    Cli.Result json = Cli.run("consolidate", "--json", "--repo", repo.toString(), "--domain", "sample");
    assertEquals(ExitCodes.IO_ERROR, json.code(), json.toString());
    var error = new ObjectMapper().readTree(json.out()).get("error");
    assertEquals(repo.resolve("sample/cp2.tar").toString(), error.get("file").asText(), json.toString());

    assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(repo.resolve("sample/cp2.tar"))), "cp2.tar changed");
    try (Stream<Path> left = Files.list(repo.resolve("sample"))) {
      assertEquals(List.of(".lock", "cp1.tar", "cp2.tar"), left.map(p -> p.getFileName().toString()).sorted().toList());
    }
    Cli.Result verify = Cli.run("verify", "-q", "--repo", repo.toString());
    assertEquals(ExitCodes.OK, verify.code(), verify.toString());
  }

  /**
   * cp3, whose parent cp2 was never backed up: without --checkpoint-dir its ancestor cp1 in the
   * repository cannot be found, and the full backup says how to get an incremental; with it, cp3 is
   * incremental since cp1.
   */
  @Test
  void aFullBackupWithoutCheckpointDirSaysHowToGetAnIncremental() throws Exception {
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Files.copy(SAMPLE.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Files.copy(SAMPLE.resolve("checkpoints/cp2.xml"), checkpoints.resolve("cp2.xml"));
    Path cp3 = checkpoints.resolve("cp3.xml");
    Files.writeString(cp3, Files.readString(checkpoints.resolve("cp2.xml")).replace("<name>cp1</name>", "<name>cpX</name>")
        .replace("<name>cp2</name>", "<name>cp3</name>").replace("<name>cpX</name>", "<name>cp2</name>")
        .replace("bitmap='cp2'", "bitmap='cp3'"));
    Path disk = Files.copy(SAMPLE.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    Qemu.run("qemu-img", "bitmap", "-f", "qcow2", "--add", disk.toString(), "cp3");
    Path repo = dir.resolve("repo");
    assertEquals(ExitCodes.OK, Cli.run("backup", "--repo", repo.toString(), "--checkpoint",
        checkpoints.resolve("cp1.xml").toString(), "--disk", "vda=" + disk, "-q").code());

    Cli.Result full = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp3.toString(), "--disk", "vda=" + disk, "-q");
    assertEquals(ExitCodes.PARTIAL, full.code(), full.toString());
    String hint = "tidemark: warning: the repository holds earlier backups of domain 'sample' (newest: cp1), but without"
        + " --checkpoint-dir only the checkpoint's own parent is known: give --checkpoint-dir DIR";
    assertEquals(1, full.err().lines().filter(l -> l.startsWith(hint)).count(), full.toString());

    Files.delete(repo.resolve("sample/cp3.tar"));
    Cli.Result json = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp3.toString(), "--disk", "vda=" + disk,
        "--json");
    assertTrue(JSON.readTree(json.out()).get("warnings").toString().contains("without --checkpoint-dir"), json.toString());

    Files.delete(repo.resolve("sample/cp3.tar"));
    Cli.Result inc = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp3.toString(), "--checkpoint-dir",
        checkpoints.toString(), "--disk", "vda=" + disk);
    assertEquals(ExitCodes.OK, inc.code(), inc.toString());
    assertTrue(inc.out().startsWith("incremental backup of cp3 since cp1"), inc.toString());
  }

  /** vdb falls back to full: its reason is printed once (the warning), not again in the report. */
  @Test
  void aFallbackReasonIsPrintedOnce() throws Exception {
    TwoDiskSample sample = new TwoDiskSample(dir);
    sample.backup("cp1", ExitCodes.OK, "-q");
    Cli.Result r = sample.backup("cp2", ExitCodes.PARTIAL);
    String reason = org.tidemark.archive.DiskDecision.BITMAP_MISSING.description();
    String all = r.out() + r.err();
    assertEquals(1, all.split(java.util.regex.Pattern.quote(reason), -1).length - 1, r.toString());
    assertTrue(r.err().startsWith("tidemark: warning: disk vdb backed up in full: " + reason), r.toString());
  }

  /** Raw stays the default (any tool reads it); restoring qcow2 sources as raw by default says what qcow2 is for. */
  @Test
  void aDefaultRawRestoreOfQcow2SourcesNotesWhatQcow2IsFor() {
    Path repo = dir.resolve("repo");
    assertEquals(ExitCodes.OK, backupCp1(repo, "-q").code());
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", dir.resolve("a").toString());
    assertEquals(ExitCodes.OK, r.code(), r.toString());
    assertTrue(Files.isRegularFile(dir.resolve("a/vda.raw")));
    assertEquals("tidemark: note: vda restored as raw (the default) from qcow2 source images; a domain put back into"
        + " service needs qcow2 disks for libvirt checkpoints and incremental backups: restore with --format qcow2 for"
        + " that", r.err().strip(), r.toString());
    Cli.Result raw = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", dir.resolve("b").toString(),
        "--format", "raw");
    assertEquals("", raw.err(), raw.toString());
  }
}
