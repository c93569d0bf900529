package org.tidemark.qcow2;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.tidemark.disk.Extent;

/**
 * QEMU's tools as ground truth: runs qemu-img, qemu-io and nbdinfo over qemu-nbd, failing the test
 * (never skipping it) when a tool is missing: CI installs qemu-utils and libnbd-bin.
 */
public final class Qemu {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Qemu() {}

  /** Runs a command, fails the test on a non-zero exit, returns stdout. */
  public static String run(String... command) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(false).start();
    } catch (IOException e) {
      fail(command[0] + " is needed as ground truth (apt-get install qemu-utils libnbd-bin): " + e.getMessage());
      throw e;
    }
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " timed out");
    if (p.exitValue() != 0) {
      fail(String.join(" ", command) + " failed (" + p.exitValue() + "): " + new String(err, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  /** qemu-img map's view: extents that hold data (true) or read as zeros (false), merged. */
  public static List<Extent> map(Path image) throws Exception {
    return map(image, false);
  }

  /**
   * qemu-img map's view of what reads as zeros: its {@code "zero"} flag, which the parts of a data
   * cluster lying in a hole of the file have too, where QEMU asks about them; merged.
   */
  public static List<Extent> zeroMap(Path image) throws Exception {
    return map(image, true);
  }

  private static List<Extent> map(Path image, boolean byZeroFlag) throws Exception {
    JsonNode map = JSON.readTree(run("qemu-img", "map", "--output=json", "-f", "qcow2", image.toString()));
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : map) {
      boolean zero = byZeroFlag ? e.get("zero").asBoolean() : !e.get("data").asBoolean();
      add(out, new Extent(e.get("start").asLong(), e.get("length").asLong(), zero));
    }
    return out;
  }

  /** The dirty ranges of a bitmap as QEMU exports them: nbdinfo over qemu-nbd -r -B NAME. */
  static List<Extent> dirty(Path image, String bitmap) throws Exception {
    JsonNode map = JSON.readTree(run("nbdinfo", "--json", "--map=qemu:dirty-bitmap:" + bitmap, "--",
        "[", "qemu-nbd", "-r", "-f", "qcow2", "-B", bitmap, image.toString(), "]"));
    List<Extent> out = new ArrayList<>();
    for (JsonNode e : map) {
      if (e.get("type").asInt() == 1) {
        add(out, new Extent(e.get("offset").asLong(), e.get("length").asLong(), false));
      }
    }
    return out;
  }

  /** The whole guest disk as raw bytes, converted by qemu-img. */
  static byte[] guestBytes(Path image, Path scratch) throws Exception {
    Path raw = scratch.resolve(image.getFileName() + ".raw");
    run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), raw.toString());
    byte[] b = Files.readAllBytes(raw);
    Files.delete(raw);
    return b;
  }

  /** Appends an extent, merging it with the previous one when they touch and are of one kind. */
  static void add(List<Extent> out, Extent e) {
    if (!out.isEmpty()) {
      Extent last = out.get(out.size() - 1);
      if (last.end() == e.offset() && last.zero() == e.zero()) {
        out.set(out.size() - 1, new Extent(last.offset(), last.length() + e.length(), e.zero()));
        return;
      }
    }
    out.add(e);
  }
}
