package org.tidemark.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ENOSPC named: the file being written and its file system, with df as the ground truth for the mount point. */
class FileSystemSpaceTest {
  @TempDir Path dir;

  private static String mountPoint(Path p) throws Exception {
    Process df = new ProcessBuilder("df", "--output=target", p.toString()).start();
    String out = new String(df.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(df.waitFor(30, TimeUnit.SECONDS));
    return out.lines().skip(1).findFirst().orElseThrow().strip();
  }

  @Test
  void enospcNamesTheFileAndTheFileSystemItIsOn() throws Exception {
    Path file = dir.resolve("not-yet/vda.raw"); // its folder does not exist yet: the nearest ancestor's file system
    IOException bare = new IOException("No space left on device");
    IOException named = FileSystemSpace.naming(bare, file);
    FileSystemException f = (FileSystemException) named;
    assertEquals(file.toString(), f.getFile());
    assertTrue(f.getReason().startsWith("No space left on device: the file system " + mountPoint(dir) + " ("), f.getReason());
    assertTrue(f.getReason().endsWith(" usable now"), f.getReason());
    assertSame(bare, f.getCause());
  }

  @Test
  void otherFailuresAreLeftAsTheyAre() {
    IOException other = new IOException("Input/output error");
    assertSame(other, FileSystemSpace.naming(other, dir.resolve("x")));
    FileSystemException denied = new java.nio.file.AccessDeniedException("/x");
    assertSame(denied, FileSystemSpace.naming(denied, dir.resolve("x")));
  }

  @Test
  void sizesInMibOrGibWithTheExactCount() {
    assertEquals("3.5 MiB (3670016 bytes)", FileSystemSpace.bytes(3670016));
    assertEquals("1.0 GiB (1073741824 bytes)", FileSystemSpace.bytes(1L << 30));
  }
}
