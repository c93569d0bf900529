package org.tidemark.qcow2;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Seeded qcow2 images whose data clusters lie (wholly or partly) in holes of the file that holds
 * them, made by QEMU's tools only: partial writes into fresh clusters of 1 MiB and 64 KiB (QEMU
 * leaves the rest of each cluster unwritten), compressed clusters, holes punched into data
 * clusters' host ranges ({@code fallocate -p}), a sparse copy ({@code cp --sparse=always}, which
 * makes QEMU's metadata-preallocation rule apply), backing chains (qcow2 and sparse raw) and an
 * external data file. Shared by the engine's and the CLI's comparisons with {@code qemu-img map}.
 */
public final class HoleyImages {
  /** The kinds of image {@link #make} builds from a seed. */
  public static final List<String> KINDS = List.of("fresh-1m", "sparse-1m", "punched-64k", "sparse-64k-compressed",
      "chain-qcow2", "chain-raw", "data-file", "sparse-data-file", "extended-l2");

  private HoleyImages() {}

  /** Every kind for each seed, as "kind/seed". */
  public static List<String> cases(long... seeds) {
    List<String> out = new ArrayList<>();
    for (long seed : seeds) {
      for (String kind : KINDS) {
        out.add(kind + "/" + seed);
      }
    }
    return out;
  }

  /** The image of case "kind/seed", built in {@code dir} (a folder of its own per case). */
  public static Path make(Path dir, String kindAndSeed) throws Exception {
    String kind = kindAndSeed.substring(0, kindAndSeed.indexOf('/'));
    long seed = Long.parseLong(kindAndSeed.substring(kindAndSeed.indexOf('/') + 1));
    Random r = new Random(seed * 31 + kind.hashCode());
    Path d = Files.createDirectories(dir.resolve(kind + "-" + seed));
    Path img = d.resolve("disk.qcow2");
    long size = 32L << 20;
    switch (kind) {
      case "fresh-1m" -> {
        create(img, "cluster_size=1048576", size);
        partialWrites(img, r, 1 << 20, size, 12, false);
      }
      case "sparse-1m" -> {
        create(img, "cluster_size=1048576", size);
        partialWrites(img, r, 1 << 20, size, 12, false);
        sparseCopy(img);
      }
      case "punched-64k" -> {
        create(img, "cluster_size=65536", size);
        partialWrites(img, r, 1 << 20, size, 20, false);
        punch(img, r, 16);
      }
      case "sparse-64k-compressed" -> {
        create(img, "cluster_size=65536", size);
        partialWrites(img, r, 65536, size, 20, true);
        sparseCopy(img);
      }
      case "chain-qcow2" -> {
        Path base = d.resolve("base.qcow2");
        create(base, "cluster_size=1048576", size);
        partialWrites(base, r, 1 << 20, size, 10, false);
        sparseCopy(base);
        Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", "-o", "cluster_size=65536",
            img.toString(), Long.toString(size));
        partialWrites(img, r, 1 << 20, size, 8, false);
        if (r.nextBoolean()) {
          sparseCopy(img);
        }
      }
      case "chain-raw" -> {
        Path base = d.resolve("base.raw");
        Qemu.run("qemu-img", "create", "-q", "-f", "raw", base.toString(), Long.toString(size));
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (int i = 0; i < 8; i++) {
          cmd.add("-c");
          cmd.add("write -q -P " + (1 + r.nextInt(255)) + " " + r.nextInt((int) (size >> 12) - 64) * 4096L + " "
              + (1 + r.nextInt(64)) * 4096);
        }
        cmd.add(base.toString());
        Qemu.run(cmd.toArray(String[]::new));
        Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", "-o", "cluster_size=65536",
            img.toString(), Long.toString(size));
        partialWrites(img, r, 1 << 20, size, 6, false);
      }
      case "data-file", "sparse-data-file" -> {
        create(img, "cluster_size=1048576,data_file=" + d.resolve("disk.data"), size);
        partialWrites(img, r, 1 << 20, size, 10, false);
        sparseCopy(d.resolve("disk.data"));
        if (kind.equals("sparse-data-file")) {
          sparseCopy(img);
        }
      }
      case "extended-l2" -> {
        create(img, "cluster_size=1048576,extended_l2=on", size);
        partialWrites(img, r, 1 << 20, size, 12, false);
        sparseCopy(img);
      }
      default -> throw new IllegalArgumentException(kind);
    }
    return img;
  }

  private static void create(Path img, String options, long size) throws Exception {
    Qemu.run("qemu-img", "create", "-q", "-f", "qcow2", "-o", options, img.toString(), Long.toString(size));
  }

  /** Writes of 512 B to {@code maxLength} at random offsets (some compressed, whole clusters, when asked). */
  private static void partialWrites(Path img, Random r, int maxLength, long size, int count, boolean compressed)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
    for (int i = 0; i < count; i++) {
      cmd.add("-c");
      if (compressed && r.nextInt(3) == 0) {
        cmd.add("write -q -c -P " + (1 + r.nextInt(255)) + " " + r.nextInt((int) (size >> 16)) * 65536L + " 65536");
      } else {
        long len = 512L * (1 + r.nextInt(maxLength / 512));
        long off = r.nextInt((int) ((size - len) >> 9)) * 512L;
        cmd.add(r.nextInt(8) == 0 ? "write -q -z " + off + " " + len : "write -q -P " + (1 + r.nextInt(255)) + " " + off + " " + len);
      }
    }
    cmd.add(img.toString());
    Qemu.run(cmd.toArray(String[]::new));
  }

  /** Replaces the file by a copy whose zero blocks are holes. */
  private static void sparseCopy(Path file) throws Exception {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Qemu.run("cp", "--sparse=always", file.toString(), tmp.toString());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Punches up to {@code count} random 4 KiB-aligned holes into the host ranges of data clusters, as qemu-img map lists them. */
  private static void punch(Path img, Random r, int count) throws Exception {
    List<long[]> data = new ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode e : new com.fasterxml.jackson.databind.ObjectMapper().readTree(
        Qemu.run("qemu-img", "map", "--output=json", "-f", "qcow2", img.toString()))) {
      if (e.get("data").asBoolean() && e.has("offset") && e.get("length").asLong() >= 8192) {
        data.add(new long[] {e.get("offset").asLong(), e.get("length").asLong()});
      }
    }
    for (int i = 0; i < count && !data.isEmpty(); i++) {
      long[] d = data.get(r.nextInt(data.size()));
      long blocks = d[1] / 4096;
      long first = r.nextInt((int) blocks);
      long len = 4096L * (1 + r.nextInt((int) Math.min(16, blocks - first)));
      Qemu.run("fallocate", "-p", "-o", Long.toString(d[0] + first * 4096), "-l", Long.toString(len), img.toString());
    }
  }
}
