package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.tidemark.qcow2.Qemu;

/**
 * The sample domain with a second disk, vdb, a copy of vda whose bitmap cp1 was removed (as after a
 * host crash or a disk swap): backed up at cp1 and cp2, vda is incremental at cp2 and vdb falls
 * back to full, so the two disks' chains differ.
 */
final class TwoDiskSample {
  final Path checkpoints;
  final Path vda;
  final Path vdb;
  final Path repo;

  TwoDiskSample(Path dir) throws Exception {
    Path sample = Path.of("..", "sample");
    checkpoints = Files.createDirectories(dir.resolve("checkpoints"));
    for (String cp : new String[] {"cp1", "cp2"}) {
      String xml = Files.readString(sample.resolve("checkpoints/" + cp + ".xml"));
      xml = xml.replace("    <disk name='sda' checkpoint='no'/>",
          "    <disk name='vdb' checkpoint='bitmap' bitmap='" + cp + "'/>\n    <disk name='sda' checkpoint='no'/>");
      xml = xml.replace("      <disk type='file' device='cdrom'>", """
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='/var/lib/libvirt/images/sample-vdb.qcow2'/>
                  <target dev='vdb' bus='virtio'/>
                </disk>
                <disk type='file' device='cdrom'>""".indent(6).stripTrailing().substring(6));
      Files.writeString(checkpoints.resolve(cp + ".xml"), xml);
    }
    vda = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vda.qcow2"));
    vdb = Files.copy(sample.resolve("vda.qcow2"), dir.resolve("vdb.qcow2"));
    Qemu.run("qemu-img", "bitmap", "-f", "qcow2", "--remove", vdb.toString(), "cp1");
    repo = dir.resolve("repo");
  }

  /** Backs up checkpoint {@code cp} ({@code cp1} or {@code cp2}) and checks the exit code. */
  Cli.Result backup(String cp, int expectedExit, String... more) {
    String[] base = {"backup", "--repo", repo.toString(), "--checkpoint", checkpoints.resolve(cp + ".xml").toString(),
        "--checkpoint-dir", checkpoints.toString(), "--disk", "vda=" + vda, "--disk", "vdb=" + vdb};
    String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(base), java.util.Arrays.stream(more))
        .toArray(String[]::new);
    Cli.Result r = Cli.run(args);
    assertEquals(expectedExit, r.code(), r.toString());
    return r;
  }

  /** Bytes holding data in a raw image, as {@code qemu-img map} reports them (its holes excluded). */
  static long rawDataBytes(Path image) throws Exception {
    var map = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        Qemu.run("qemu-img", "map", "--output=json", "-f", "raw", image.toString()));
    long sum = 0;
    for (var e : map) {
      if (e.get("data").asBoolean()) {
        sum += e.get("length").asLong();
      }
    }
    return sum;
  }
}
