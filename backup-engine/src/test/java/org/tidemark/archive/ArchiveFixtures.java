package org.tidemark.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Builds small archives with seeded content for the archive tests. */
final class ArchiveFixtures {
  static final byte[] CHECKPOINT = "<domaincheckpoint>\n  <name>cp1</name>\n</domaincheckpoint>\n"
      .getBytes(StandardCharsets.UTF_8);

  /** A disk of {@code size} bytes whose extents alternate data and zero, with guest bytes kept. */
  static final class Disk {
    final String name;
    final byte[] guest;
    final List<ExtentRecord> extents = new ArrayList<>();

    Disk(String name, long seed, int size, int pieces) {
      this.name = name;
      this.guest = new byte[size];
      Random r = new Random(seed);
      int pos = 0;
      boolean zero = r.nextBoolean();
      for (int i = 0; i < pieces && pos < size; i++) {
        int len = i == pieces - 1 ? size - pos : Math.min(size - pos, 1 + r.nextInt(Math.max(1, 2 * size / pieces)));
        if (!zero) {
          byte[] b = new byte[len];
          // half random, half compressible
          if (r.nextBoolean()) {
            r.nextBytes(b);
          } else {
            java.util.Arrays.fill(b, (byte) r.nextInt(256));
          }
          System.arraycopy(b, 0, guest, pos, len);
        }
        extents.add(new ExtentRecord(pos, len, zero));
        pos += len;
        zero = !zero;
      }
    }

    /** A disk that is random data from end to end. */
    static Disk dense(String name, long seed, int size) {
      Disk d = new Disk(name, seed, size, 1);
      new Random(seed).nextBytes(d.guest);
      d.extents.clear();
      d.extents.add(new ExtentRecord(0, size, false));
      return d;
    }

    DiskManifest manifest(String kind) {
      return new DiskManifest(name, kind, "no-base-backup", "first backup", guest.length, 512, extents);
    }

    /** Writes this disk's data extents as chunks of at most {@code chunk} bytes. */
    void write(ArchiveWriter w, int chunk, Codec codec) throws IOException {
      for (ExtentRecord e : extents) {
        if (e.zero()) {
          continue;
        }
        for (long off = e.offset(); off < e.end(); off += chunk) {
          int len = (int) Math.min(chunk, e.end() - off);
          byte[] raw = java.util.Arrays.copyOfRange(guest, (int) off, (int) off + len);
          w.writeChunk(name, EncodedChunk.encode(off, raw, len, codec));
        }
      }
    }
  }

  static Path write(Path target, List<Disk> disks, int chunk, Codec codec) throws IOException {
    Manifest m = Manifest.of("test", "vm1", "cp1", 1700000000L, null,
        disks.stream().map(d -> d.manifest(DiskManifest.FULL)).toList());
    try (ArchiveWriter w = ArchiveWriter.create(target, CHECKPOINT, m)) {
      for (Disk d : disks) {
        d.write(w, chunk, codec);
      }
      return w.commit();
    }
  }

  private ArchiveFixtures() {}
}
