package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tidemark.consolidate.HeldLock;
import org.tidemark.consolidate.QemuChain;
import org.tidemark.qcow2.Qemu;

/**
 * {@code tidemark consolidate} on a real 7-point chain with per-disk fallbacks ({@link QemuChain}):
 * the JSON line of a run and of its failures (unknown domain, unknown checkpoint, lock held), the
 * text line, and that after it the repository verifies and the point and every later one restore
 * identical to QEMU's copies ({@code qemu-img compare}).
 */
class ConsolidateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private static JsonNode oneLine(Cli.Result r) throws Exception {
    assertEquals(1, r.out().lines().count(), "one line: " + r);
    JsonNode doc = JSON.readTree(r.out());
    assertEquals("consolidate", doc.get("command").asText(), r.toString());
    assertEquals(r.code(), doc.get("exitCode").asInt(), r.toString());
    return doc;
  }

  @Test
  void consolidatesAPointInPlaceAndSaysSoInJsonAndText() throws Exception {
    QemuChain chain = QemuChain.build(dir, 23, 16, 8);
    String repo = chain.repo.root().toString();

    JsonNode doc = oneLine(Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp4", "--json",
        "--verify"));
    assertEquals("ok", doc.get("status").asText(), doc.toString());
    assertTrue(doc.get("consolidated").asBoolean());
    assertTrue(doc.get("readBack").asBoolean(), "--verify read the new archive back: " + doc);
    assertEquals(chain.archive(4).toString(), doc.get("archive").asText());
    List<String> from = new ArrayList<>();
    doc.get("builtFrom").forEach(n -> from.add(n.asText()));
    assertEquals(List.of("cp4.tar", "cp3.tar", "cp2.tar", "cp1.tar"), from, "vdb is full at cp4, vda goes back to cp1");
    assertEquals(2, doc.get("disks").size());

    Cli.Result text = Cli.run("consolidate", "--repo", repo, "--domain", "vm");
    assertEquals(0, text.code(), text.toString());
    assertTrue(text.out().startsWith("consolidated vm/cp7: cp7.tar is now a full backup"), text.out());
    // vda is full at cp6, vdb at cp4 (consolidated just before)
    assertTrue(text.out().contains("built from 4 archives") && text.out().contains("no longer needs [cp6.tar, cp5.tar, cp4.tar]"),
        text.out());
    Cli.Result again = Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp4");
    assertEquals(0, again.code(), again.toString());
    assertEquals("vm/cp4 is a full backup already: nothing to do", again.out().strip());
    JsonNode none = oneLine(Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp4", "--json",
        "--verify"));
    assertFalse(none.get("readBack").asBoolean(), "nothing written, nothing read back: " + none);

    Cli.Result verify = Cli.run("verify", "--repo", repo);
    assertEquals(0, verify.code(), verify.toString());
    for (int p = 4; p <= QemuChain.POINTS; p++) {
      Path out = dir.resolve("restore-" + p);
      Cli.Result r = Cli.run("restore", "--repo", repo, "--domain", "vm", "--checkpoint", "cp" + p, "--to",
          out.toString(), "-q");
      assertEquals(0, r.code(), r.toString());
      for (String d : QemuChain.DISKS) {
        Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", chain.copy(p, d).toString(),
            out.resolve(d + ".raw").toString());
      }
    }
  }

  @Test
  void failuresAreOneJsonLineWithTheirExitCode() throws Exception {
    QemuChain chain = QemuChain.build(dir, 29, 8, 4);
    String repo = chain.repo.root().toString();
    byte[] cp5 = Files.readAllBytes(chain.archive(5));

    Cli.Result unknownDomain = Cli.run("consolidate", "--repo", repo, "--domain", "vm2", "--json");
    JsonNode d = oneLine(unknownDomain);
    assertEquals(ExitCodes.INVALID_INPUT, unknownDomain.code(), unknownDomain.toString());
    assertEquals("failed", d.get("status").asText());
    assertTrue(d.get("error").get("message").asText().contains("vm2"), d.toString());

    Cli.Result unknownPoint = Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp9", "--json");
    JsonNode u = oneLine(unknownPoint);
    assertEquals(ExitCodes.INVALID_INPUT, unknownPoint.code(), unknownPoint.toString());
    assertTrue(u.get("error").get("message").asText().contains("cp9"), u.toString());

    Cli.Result busy;
    try (HeldLock held = HeldLock.hold(chain.repo, "vm", "backup of cp8")) {
      busy = Cli.run("consolidate", "--repo", repo, "--domain", "vm", "--checkpoint", "cp5", "--json");
    }
    JsonNode b = oneLine(busy);
    assertEquals(ExitCodes.LOCKED, busy.code(), busy.toString());
    assertEquals("failed", b.get("status").asText());
    assertTrue(b.get("error").get("message").asText().contains("backup of cp8"), b.toString());
    assertFalse(busy.err().isBlank());
    assertTrue(java.util.Arrays.equals(cp5, Files.readAllBytes(chain.archive(5))), "refused: the archive is untouched");
  }

  /**
   * {@code --all} consolidates the newest point of every domain, each under its own lock: a domain
   * whose lock is held is reported (exit 8) while the others are consolidated; a domain folder
   * without backups is nothing to do; every point then restores identical to QEMU's copies.
   */
  @Test
  void allConsolidatesEveryDomainAndOneLockedDomainDoesNotStopTheOthers() throws Exception {
    QemuChain chain = QemuChain.build(dir, 31, 8, 4);
    String repo = chain.repo.root().toString();
    Path sample = Path.of("..", "sample");
    Cli.Result cp1 = Cli.run("backup", "-q", "--repo", repo, "--checkpoint", sample.resolve("checkpoints/cp1.xml")
        .toString(), "--disk", "vda=" + sample.resolve("vda.qcow2"));
    assertEquals(ExitCodes.OK, cp1.code(), cp1.toString());
    Cli.Result cp2 = Cli.run("backup", "-q", "--repo", repo, "--checkpoint", sample.resolve("checkpoints/cp2.xml")
        .toString(), "--checkpoint-dir", sample.resolve("checkpoints").toString(), "--disk",
        "vda=" + sample.resolve("vda.qcow2"));
    assertEquals(ExitCodes.OK, cp2.code(), cp2.toString());
    Files.createDirectories(chain.repo.root().resolve("gone"));
    byte[] vmCp7 = Files.readAllBytes(chain.archive(7));

    Cli.Result withPoint = Cli.run("consolidate", "--repo", repo, "--all", "--checkpoint", "cp2");
    assertEquals(ExitCodes.USAGE, withPoint.code(), withPoint.toString());
    assertTrue(withPoint.err().contains("--checkpoint names a point of one domain"), withPoint.toString());

    Cli.Result busy;
    try (HeldLock held = HeldLock.hold(chain.repo, "vm", "backup of cp8")) {
      busy = Cli.run("consolidate", "--repo", repo, "--all", "--json");
    }
    JsonNode b = oneLine(busy);
    assertEquals(ExitCodes.LOCKED, busy.code(), busy.toString());
    assertEquals(List.of("gone: no-backups", "sample: consolidated", "vm: locked"), statuses(b));
    assertTrue(b.get("domains").get(2).get("error").get("message").asText().contains("backup of cp8"), b.toString());
    assertTrue(java.util.Arrays.equals(vmCp7, Files.readAllBytes(chain.archive(7))), "vm was locked: untouched");

    Cli.Result all = Cli.run("consolidate", "--repo", repo, "--all", "--json");
    JsonNode a = oneLine(all);
    assertEquals(ExitCodes.OK, all.code(), all.toString());
    assertEquals(List.of("gone: no-backups", "sample: full-already", "vm: consolidated"), statuses(a));
    assertEquals("cp7", a.get("domains").get(2).get("checkpoint").asText());
    Cli.Result text = Cli.run("consolidate", "--repo", repo, "--all");
    assertEquals(ExitCodes.OK, text.code(), text.toString());
    assertEquals(List.of("gone: no backups: nothing to do", "sample/cp2 is a full backup already: nothing to do",
        "vm/cp7 is a full backup already: nothing to do"), text.out().lines().toList());

    Cli.Result verify = Cli.run("verify", "--repo", repo);
    assertEquals(0, verify.code(), verify.toString());
    Path vm = dir.resolve("restore-vm");
    assertEquals(0, Cli.run("restore", "-q", "--repo", repo, "--domain", "vm", "--to", vm.toString()).code());
    for (String d : QemuChain.DISKS) {
      Qemu.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", chain.copy(7, d).toString(),
          vm.resolve(d + ".raw").toString());
    }
    Path s = dir.resolve("restore-sample");
    assertEquals(0, Cli.run("restore", "-q", "--repo", repo, "--domain", "sample", "--to", s.toString()).code());
    Qemu.run("qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", sample.resolve("vda.qcow2").toString(),
        s.resolve("vda.raw").toString());
  }

  private static List<String> statuses(JsonNode doc) {
    List<String> out = new ArrayList<>();
    doc.get("domains").forEach(d -> out.add(d.get("domain").asText() + ": " + d.get("status").asText()));
    return out;
  }
}
