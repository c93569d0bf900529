package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tidemark command in-process, on a copy of the sample shipped in the repository: the nightly
 * flow with --json, and every error path with its documented exit code and one-line message.
 */
class CommandLineTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  Path disk;
  Path cp1;
  Path cp2;
  Path checkpoints;
  Path repo;

  @BeforeEach
  void copySample() throws Exception {
    Path sample = Path.of("..", "sample");
    checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    cp1 = Files.copy(sample.resolve("checkpoints/cp1.xml"), checkpoints.resolve("cp1.xml"));
    cp2 = Files.copy(sample.resolve("checkpoints/cp2.xml"), checkpoints.resolve("cp2.xml"));
    disk = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    repo = dir.resolve("repo");
  }

  private Cli.Result backup(Path checkpoint, String... more) {
    String[] base = {"backup", "--repo", repo.toString(), "--checkpoint", checkpoint.toString(),
        "--checkpoint-dir", checkpoints.toString(), "--disk", "vda=" + disk, "--json"};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return Cli.run(all);
  }

  @Test
  void nightlyChainWithJsonThenRestoreEqualsTheSource() throws Exception {
    Cli.Result full = backup(cp1);
    assertEquals(0, full.code(), full.toString());
    JsonNode f = JSON.readTree(full.out());
    assertEquals("full", f.get("kind").asText());
    assertEquals("no-base-backup", f.get("disks").get(0).get("decision").asText());
    assertEquals("empty", f.get("disks").get(1).get("decision").asText());

    Cli.Result inc = backup(cp2);
    assertEquals(0, inc.code(), inc.toString());
    JsonNode i = JSON.readTree(inc.out());
    assertEquals("incremental", i.get("kind").asText());
    assertEquals("cp1", i.get("base").asText());
    assertTrue(i.get("disks").get(0).get("bytesRead").asLong() < f.get("disks").get(0).get("bytesRead").asLong());

    Cli.Result verify = Cli.run("verify", "--repo", repo.toString(), "--json");
    assertEquals(0, verify.code(), verify.toString());
    assertTrue(JSON.readTree(verify.out()).get("ok").asBoolean());

    Cli.Result list = Cli.run("list", "--repo", repo.toString(), "--json");
    JsonNode backups = JSON.readTree(list.out()).get("domains").get(0).get("backups");
    assertEquals(2, backups.size());
    assertEquals("cp1", backups.get(1).get("parent").asText());

    Path out = dir.resolve("restore");
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--json");
    assertEquals(0, restore.code(), restore.toString());
    // qemu-img decides whether the restore equals the source
    Process p = new ProcessBuilder("qemu-img", "compare", "-f", "qcow2", "-F", "raw", disk.toString(),
        out.resolve("vda.raw").toString()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), said);
    assertEquals(0, Cli.run("image", "compare", disk.toString(), out.resolve("vda.raw").toString()).code());
    assertTrue(Files.readString(out.resolve("sample.xml")).startsWith("<domain type='test'>\n  <name>sample</name>"));

    Cli.Result again = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString());
    assertEquals(ExitCodes.WOULD_OVERWRITE, again.code(), again.toString());
    assertTrue(again.err().contains("use --force"), again.err());
    assertEquals(0, Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--force").code());

    Cli.Result twice = backup(cp2);
    assertEquals(ExitCodes.WOULD_OVERWRITE, twice.code(), twice.toString());
  }

  @Test
  void restoreToQcow2IsCleanAndIdenticalByQemu() throws Exception {
    assertEquals(0, backup(cp1).code());
    assertEquals(0, backup(cp2).code());
    Path out = dir.resolve("restore");
    Cli.Result r = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(),
        "--format", "qcow2", "--json");
    assertEquals(0, r.code(), r.toString());
    JsonNode doc = JSON.readTree(r.out());
    assertEquals("qcow2", doc.get("format").asText());
    JsonNode vda = doc.get("disks").get(0);
    assertEquals("qcow2", vda.get("format").asText());
    Path image = out.resolve("vda.qcow2");
    assertEquals(image.toString(), vda.get("image").asText());
    assertFalse(Files.exists(out.resolve("vda.raw")));
    JsonNode check = JSON.readTree(tool("qemu-img", "check", "--output=json", "-f", "qcow2", image.toString()));
    assertEquals(0, check.get("check-errors").asInt(), check.toString());
    assertFalse(check.has("corruptions") || check.has("leaks"), check.toString());
    JsonNode info = JSON.readTree(tool("qemu-img", "info", "--output=json", "-f", "qcow2", image.toString()));
    assertEquals("1.1", info.at("/format-specific/data/compat").asText());
    assertEquals(JSON.readTree(tool("qemu-img", "info", "--output=json", "-f", "qcow2", disk.toString())).get("virtual-size"),
        info.get("virtual-size"));
    assertEquals("Images are identical.", tool("qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", disk.toString(),
        image.toString()).strip());
    assertEquals(0, Cli.run("image", "compare", disk.toString(), image.toString()).code());

    // the older point, in both formats side by side
    Path older = dir.resolve("older");
    assertEquals(0, Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp1",
        "--to", older.toString(), "--format", "qcow2").code());
    Cli.Result raw = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--checkpoint", "cp1",
        "--to", older.toString(), "--format", "raw", "--force");
    assertEquals(0, raw.code(), raw.toString());
    assertTrue(raw.out().contains("vda.raw (raw, "), raw.out());
    tool("qemu-img", "check", "-q", "-f", "qcow2", older.resolve("vda.qcow2").toString());
    assertEquals("Images are identical.", tool("qemu-img", "compare", "-f", "raw", "-F", "qcow2",
        older.resolve("vda.raw").toString(), older.resolve("vda.qcow2").toString()).strip());

    Cli.Result again = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--format", "qcow2");
    assertEquals(ExitCodes.WOULD_OVERWRITE, again.code(), again.toString());
    Cli.Result bogus = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString(), "--format", "vmdk");
    assertEquals(ExitCodes.USAGE, bogus.code(), bogus.toString());
    assertTrue(bogus.err().contains("expected raw or qcow2"), bogus.err());
  }

  @Test
  void aMissingBitmapFallsBackToFullWithExitCodeSix() throws Exception {
    assertEquals(0, backup(cp1).code());
    Process p = new ProcessBuilder("qemu-img", "bitmap", "--remove", disk.toString(), "cp1").redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue());
    Cli.Result r = backup(cp2);
    assertEquals(ExitCodes.PARTIAL, r.code(), r.toString());
    JsonNode vda = JSON.readTree(r.out()).get("disks").get(0);
    assertEquals("bitmap-missing", vda.get("decision").asText());
    assertTrue(vda.get("fallback").asBoolean());
    assertTrue(vda.get("reason").asText().contains("'cp1'"), vda.toString());
  }

  @Test
  void errorPathsGiveOneLineAndTheirExitCode() throws Exception {
    Cli.Result missing = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", dir.resolve("nope.xml").toString());
    assertEquals(ExitCodes.IO_ERROR, missing.code(), missing.toString());
    assertOneLine(missing, "nope.xml");

    Path bad = Files.writeString(dir.resolve("bad.xml"), "<domaincheckpoint>\n  <name>x</name>\n  <creationTime> 1 </creationTime>\n</domaincheckpoint>\n");
    Cli.Result invalid = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", bad.toString());
    assertEquals(ExitCodes.INVALID_INPUT, invalid.code(), invalid.toString());
    assertFalse(invalid.err().strip().contains("\n"), invalid.toString());
    assertTrue(invalid.err().startsWith(bad + ":3:"), "FILE:LINE:COL: message, got " + invalid.err());

    Cli.Result validate = Cli.run("checkpoint", "validate", cp1.toString(), bad.toString());
    assertEquals(ExitCodes.INVALID_INPUT, validate.code(), validate.toString());
    assertTrue(validate.out().contains("cp1.xml: valid"), validate.toString());

    Path notQcow2 = Files.writeString(dir.resolve("junk.img"), "junk");
    Cli.Result unreadable = Cli.run("backup", "--repo", repo.toString(), "--checkpoint", cp1.toString(), "--disk", "vda=" + notQcow2);
    assertEquals(ExitCodes.INVALID_INPUT, unreadable.code(), unreadable.toString());
    assertOneLine(unreadable, "not a qcow2 image");

    Cli.Result usage = Cli.run("backup", "--bogus");
    assertEquals(ExitCodes.USAGE, usage.code(), usage.toString());

    Cli.Result differ = Cli.run("image", "compare", disk.toString(), notQcow2.toString());
    assertEquals(ExitCodes.DIFFERENT, differ.code(), differ.toString());
  }

  /**
   * The backup validates its checkpoint against libvirt's domain grammar while it copies: a domain
   * only that grammar refuses (a vCPU count that is not a number) fails the backup at the end, with
   * the checkpoint's line and column, and leaves no archive and no temporary file.
   */
  @Test
  void aDomainLibvirtsGrammarRefusesFailsTheBackupAndLeavesNoArchive() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        org.tidemark.xml.DomainGrammar.host().schemaDirectory().isPresent(), "libvirt's schemas are installed by .ci/run");
    String text = Files.readString(cp1).replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>one</vcpu>");
    assertTrue(text.contains(">one</vcpu>"), "the sample's checkpoint has the vcpu line");
    Path bad = Files.writeString(checkpoints.resolve("cp1.xml"), text);
    org.tidemark.xml.CheckpointXml.parse(Files.readAllBytes(bad), bad.toString(), java.util.Set.of(),
        org.tidemark.xml.DomainGrammar.builtIn()); // the structural check alone accepts it
    Cli.Result r = backup(bad);
    assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.toString());
    assertFalse(r.err().strip().contains("\n"), r.toString());
    assertTrue(r.err().startsWith(bad + ":14:"), "FILE:LINE:COL: message, got " + r.err());
    try (var files = Files.list(repo.resolve("sample"))) {
      assertEquals(java.util.List.of(), files.filter(f -> !f.getFileName().toString()
          .equals(org.tidemark.archive.RepositoryLock.FILE_NAME)).toList(), "nothing left in the repository but its lock");
    }
  }

  @Test
  void aCorruptArchiveIsFoundByVerifyAndRefusedByRestore() throws Exception {
    assertEquals(0, backup(cp1).code());
    Path archive = repo.resolve("sample").resolve("cp1.tar");
    try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
      long at = f.length() / 2; // inside the chunk data
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x10);
    }
    Cli.Result verify = Cli.run("verify", "--repo", repo.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, verify.code(), verify.toString());
    assertTrue(verify.err().contains("cp1.tar: disk vda at guest offset"), verify.err());
    Path out = dir.resolve("restore");
    Cli.Result restore = Cli.run("restore", "--repo", repo.toString(), "--domain", "sample", "--to", out.toString());
    assertEquals(ExitCodes.CORRUPT_ARCHIVE, restore.code(), restore.toString());
    assertOneLine(restore, "cp1.tar");
    assertFalse(Files.exists(out.resolve("vda.raw")), "no image that looks complete");
  }

  private static String tool(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes());
    p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), String.join(" ", cmd));
    return out;
  }

  @Test
  void imageCommandsPrintWhatQemusToolsPrint() throws Exception {
    Cli.Result map = Cli.run("image", "map", "--json", disk.toString());
    assertEquals(0, map.code(), map.toString());
    assertEquals(JSON.readTree(tool("qemu-img", "map", "--output=json", "-f", "qcow2", disk.toString())), JSON.readTree(map.out()));
    for (String bitmap : new String[] {"cp1", "cp2"}) {
      Cli.Result b = Cli.run("image", "bitmap", "--json", disk.toString(), bitmap);
      assertEquals(0, b.code(), b.toString());
      assertEquals(JSON.readTree(tool("nbdinfo", "--json", "--map=qemu:dirty-bitmap:" + bitmap, "--",
          "[", "qemu-nbd", "-r", "-f", "qcow2", "-B", bitmap, disk.toString(), "]")), JSON.readTree(b.out()), bitmap);
    }
    JsonNode ours = JSON.readTree(Cli.run("image", "info", "--json", disk.toString()).out());
    JsonNode theirs = JSON.readTree(tool("qemu-img", "info", "--output=json", "-f", "qcow2", disk.toString()));
    for (String field : new String[] {"virtual-size", "cluster-size", "format"}) {
      assertEquals(theirs.get(field), ours.get(field), field);
    }
    assertEquals(theirs.at("/format-specific/data/bitmaps"), ours.at("/format-specific/data/bitmaps"));
    assertEquals(theirs.at("/format-specific/data/compat"), ours.at("/format-specific/data/compat"));
    Cli.Result none = Cli.run("image", "bitmap", "--json", disk.toString(), "nope");
    assertEquals(ExitCodes.INVALID_INPUT, none.code(), none.toString());
    assertOneLine(none, "no bitmap named 'nope'");
  }

  private static void assertOneLine(Cli.Result r, String mention) {
    String err = r.err().strip();
    assertFalse(err.contains("\n"), "one line, no stack trace: " + r);
    assertTrue(err.startsWith("tidemark: "), r.toString());
    assertTrue(err.contains(mention), "'" + mention + "' in: " + err);
  }
}
