package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.qcow2.Qemu;

/**
 * The newest ancestor's archive is damaged: the next backup takes an older base, and says so (a
 * warning on stderr, {@code warnings} in the JSON) instead of doing it silently.
 */
class UnreadableBaseTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  @Test
  void aDamagedNewestBaseIsNamedAndAnOlderOneTaken() throws Exception {
    Path sample = Path.of("..", "sample");
    Path checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    Path cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    Path cp2 = Files.copy(sample.resolve("checkpoints/cp2.xml"), checkpoints.resolve("cp2.xml"));
    Path disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    Path repo = dir.resolve("repo");
    for (Path cp : new Path[] {cp1, cp2}) {
      assertEquals(0, backup(repo, checkpoints, cp, disk).code());
    }
    // a third checkpoint after cp2, as libvirt would make it: a new bitmap in the image, cp2 its parent
    Qemu.run("qemu-img", "bitmap", "--add", disk.toString(), "cp3");
    Path cp3 = Files.writeString(checkpoints.resolve("cp3.xml"), Files.readString(cp2)
        .replace("<name>cp2</name>", "<name>cp3</name>").replace("<name>cp1</name>", "<name>cp2</name>")
        .replace("bitmap='cp2'", "bitmap='cp3'").replace("1795572196", "1795572296"));
    try (RandomAccessFile f = new RandomAccessFile(repo.resolve("sample/cp2.tar").toFile(), "rw")) {
      f.setLength(f.length() - 512);
    }
    Cli.Result r = backup(repo, checkpoints, cp3, disk, "--json");
    JsonNode doc = JSON.readTree(r.out());
    assertEquals("cp1", doc.get("base").asText(), r.toString());
    assertEquals(1, doc.get("warnings").size(), r.toString());
    String w = doc.get("warnings").get(0).asText();
    assertTrue(w.startsWith("the backup of checkpoint 'cp2' (" + repo.resolve("sample/cp2.tar") + ") cannot be used"), w);
    assertTrue(w.contains("an older base"), w);

    Files.delete(repo.resolve("sample/cp3.tar"));
    Cli.Result text = backup(repo, checkpoints, cp3, disk);
    assertTrue(text.err().contains("tidemark: warning: the backup of checkpoint 'cp2'"), text.toString());
  }

  private static Cli.Result backup(Path repo, Path checkpoints, Path cp, Path disk, String... more) {
    String[] base = {"backup", "--repo", repo.toString(), "--checkpoint", cp.toString(), "--checkpoint-dir",
        checkpoints.toString(), "--disk", "vda=" + disk};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return Cli.run(all);
  }
}
