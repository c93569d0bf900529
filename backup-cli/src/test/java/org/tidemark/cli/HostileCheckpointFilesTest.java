package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoint files that are not what a backup or {@code checkpoint validate} expects: a document in
 * UTF-16 carrying an entity bomb, a device, a FIFO, a 3 GB sparse file, a folder; a checkpoint folder
 * defining a name twice, of another domain, or missing a parent. Each is one
 * typed line on stderr with its documented exit code, in bounded time and memory (the packaged
 * command is run on the same inputs with a 64 MiB heap in {@code PackagedJarIT}), and no archive.
 */
class HostileCheckpointFilesTest {
  private static final Duration NEVER_THIS_LONG = Duration.ofSeconds(60);
  @TempDir Path dir;
  Path checkpoints;
  Path cp1;
  Path repo;
  Path disk;

  @BeforeEach
  void copySample() throws Exception {
    Path sample = Path.of("..", "sample");
    checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
  }

  /**
   * A 1.8 MB checkpoint in UTF-16BE without a byte order mark whose description expands to 50
   * million characters: 40 entities of 20,000 characters, each referenced 62 times by another.
   */
  static byte[] utf16EntityBomb() {
    StringBuilder b = new StringBuilder("<?xml version='1.0' encoding='UTF-16'?>\n<!DOCTYPE domaincheckpoint [\n");
    for (int i = 0; i < 40; i++) {
      b.append("<!ENTITY e").append(i).append(" '").append("x".repeat(20_000)).append("'>\n");
    }
    b.append("<!ENTITY all '").append("&e0;&e1;&e2;&e3;&e4;&e5;&e6;&e7;&e8;&e9;&e10;&e11;&e12;&e13;&e14;&e15;&e16;&e17;&e18;&e19;"
        .concat("&e20;&e21;&e22;&e23;&e24;&e25;&e26;&e27;&e28;&e29;&e30;&e31;&e32;&e33;&e34;&e35;&e36;&e37;&e38;&e39;").repeat(62))
        .append("'>\n]>\n<domaincheckpoint>\n  <name>old</name>\n  <description>&all;</description>\n"
            + "  <creationTime>5</creationTime>\n</domaincheckpoint>\n");
    return b.toString().getBytes(StandardCharsets.UTF_16BE);
  }

  static Path fifo(Path p) throws Exception {
    Process mk = new ProcessBuilder("mkfifo", p.toString()).redirectErrorStream(true).start();
    assertTrue(mk.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, mk.exitValue(), new String(mk.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    return p;
  }

  static Path sparse(Path p, long size) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  private Cli.Result backup(String checkpoint) {
    return assertTimeoutPreemptively(NEVER_THIS_LONG, () -> Cli.run("backup", "--repo", repo.toString(), "--checkpoint",
        checkpoint, "--checkpoint-dir", checkpoints.toString(), "--disk", "vda=" + disk));
  }

  private void assertRefused(Cli.Result r, int code, String... mentions) throws Exception {
    assertEquals(code, r.code(), r.toString());
    String err = r.err().strip();
    assertFalse(err.isEmpty() || err.contains("\n"), "one line, no stack trace: " + r);
    for (String m : mentions) {
      assertTrue(err.contains(m), "'" + m + "' in: " + err);
    }
    assertFalse(Files.exists(repo.resolve("sample").resolve("cp1.tar")), "no archive");
  }

  @Test
  void aUtf16EntityBombInTheCheckpointFolderIsRefusedByItsEncoding() throws Exception {
    Path bomb = Files.write(checkpoints.resolve("old.xml"), utf16EntityBomb());
    assertRefused(backup(cp1.toString()), ExitCodes.INVALID_INPUT, bomb + ":1:1: ", "UTF-16BE", "only UTF-8");
    Cli.Result v = Cli.run("checkpoint", "validate", "--allow-missing-domain", bomb.toString());
    assertRefused(v, ExitCodes.INVALID_INPUT, bomb + ":1:1: ", "UTF-16BE");
  }

  @Test
  void devicesAreRefusedUnread() throws Exception {
    assertRefused(backup("/dev/zero"), ExitCodes.IO_ERROR, "tidemark: /dev/zero: not a regular file (a character device)");
    Cli.Result v = assertTimeoutPreemptively(NEVER_THIS_LONG, () -> Cli.run("checkpoint", "validate", "/dev/urandom"));
    assertRefused(v, ExitCodes.IO_ERROR, "tidemark: /dev/urandom: not a regular file (a character device)");
    Cli.Result f = assertTimeoutPreemptively(NEVER_THIS_LONG, () -> Cli.run("checkpoint", "format", "/dev/zero"));
    assertRefused(f, ExitCodes.IO_ERROR, "/dev/zero: not a regular file");
  }

  @Test
  void aFifoIsNeverOpened() throws Exception {
    Path inDir = fifo(checkpoints.resolve("pipe.xml"));
    assertRefused(backup(cp1.toString()), ExitCodes.IO_ERROR, "tidemark: " + inDir + ": not a regular file (a FIFO)");
    Files.delete(inDir);
    Path named = fifo(dir.resolve("named.xml"));
    assertRefused(backup(named.toString()), ExitCodes.IO_ERROR, named + ": not a regular file (a FIFO)", "- for standard input");
    // validate reports each file and goes on
    Cli.Result v = assertTimeoutPreemptively(NEVER_THIS_LONG, () -> Cli.run("checkpoint", "validate", named.toString(), cp1.toString()));
    assertRefused(v, ExitCodes.IO_ERROR, named + ": not a regular file (a FIFO)");
    assertTrue(v.out().contains(cp1 + ": valid"), v.toString());
  }

  @Test
  void aSparseFileOf3GigabytesIsRefusedByItsSize() throws Exception {
    Path big = sparse(checkpoints.resolve("big.xml"), 3L << 30);
    assertRefused(backup(cp1.toString()), ExitCodes.INVALID_INPUT,
        big + ": file of 3221225472 bytes is larger than the limit of 16777216");
  }

  @Test
  void aFolderNamedLikeACheckpointIsRefused() throws Exception {
    Path folder = Files.createDirectories(checkpoints.resolve("folder.xml"));
    assertRefused(backup(cp1.toString()), ExitCodes.IO_ERROR, folder + ": not a regular file (a directory)");
  }

  @Test
  void aRegularCheckpointThroughASymbolicLinkIsRead() throws Exception {
    Path link = Files.createSymbolicLink(dir.resolve("link.xml"), cp1);
    Cli.Result r = backup(link.toString());
    assertEquals(ExitCodes.OK, r.code(), r.toString());
  }

  @Test
  void aCheckpointFolderDefiningANameTwiceIsRefused() throws Exception {
    Path copy = Files.copy(cp1, checkpoints.resolve("cp0.xml"));
    assertRefused(backup(cp1.toString()), ExitCodes.INVALID_INPUT,
        cp1 + ": checkpoint 'cp1' is defined twice: also in " + copy);
  }

  @Test
  void aCheckpointFolderOfAnotherDomainIsRefused() throws Exception {
    Path self = Files.copy(cp1, dir.resolve("cp1.xml"));
    Files.writeString(cp1, Files.readString(cp1).replace("<name>sample</name>", "<name>other</name>"));
    assertRefused(backup(self.toString()), ExitCodes.INVALID_INPUT,
        checkpoints + ": the checkpoints are of domain 'other', not of domain 'sample' of " + self);
  }

  @Test
  void aCheckpointFolderMissingAParentIsRefused() throws Exception {
    Path self = Files.move(cp1, dir.resolve("cp1.xml"));
    Path cp2 = Files.copy(Path.of("..", "sample", "checkpoints", "cp2.xml"), checkpoints.resolve("cp2.xml"));
    assertRefused(backup(self.toString()), ExitCodes.INVALID_INPUT,
        cp2 + ": the parent 'cp1' of checkpoint 'cp2' is not in the set (1 checkpoint)");
  }
}
