package org.tidemark.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
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

    DiskManifest manifest(DiskDecision.Kind kind) {
      return new DiskManifest(name, kind, DiskDecision.NO_BASE_BACKUP, "first backup", guest.length, 512, extents);
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
    return write(target, disks, chunk, codec, true);
  }

  /** {@link #write(Path, List, int, Codec)}, around the page cache only when {@code directIo}. */
  static Path write(Path target, List<Disk> disks, int chunk, Codec codec, boolean directIo) throws IOException {
    Manifest m = Manifest.of("test", "vm1", "cp1", 1700000000L, Optional.empty(),
        disks.stream().map(d -> d.manifest(DiskManifest.FULL)).toList());
    try (ArchiveWriter w = ArchiveWriter.create(target, CHECKPOINT, m, directIo)) {
      for (Disk d : disks) {
        d.write(w, chunk, codec);
      }
      return w.commit();
    }
  }

  private ArchiveFixtures() {}

  /**
   * The archive at {@code v2} rewritten in format version 1: the manifest of version 1, the same
   * chunks behind plain ustar headers (through Commons Compress's tar stream) or, with {@code
   * aligned}, as the version 2 writer lays them out, then {@code index.json} with every chunk's
   * data offset and a seal of version 1 (no {@code indexBytes}) over the JSON index.
   */
  static byte[] asVersionOne(Path v2, boolean aligned) throws Exception {
    java.util.Map<String, byte[]> data = new java.util.LinkedHashMap<>();
    try (org.apache.commons.compress.archivers.tar.TarFile tar = new org.apache.commons.compress.archivers.tar.TarFile(v2)) {
      for (org.apache.commons.compress.archivers.tar.TarArchiveEntry e : tar.getEntries()) {
        try (java.io.InputStream in = tar.getInputStream(e)) {
          data.put(e.getName(), in.readAllBytes());
        }
      }
    }
    List<ChunkRecord> chunks;
    Manifest m;
    try (ArchiveReader r = ArchiveReader.open(v2)) {
      chunks = r.chunks();
      m = r.manifest();
    }
    Manifest v1 = new Manifest(m.format(), 1, m.toolVersion(), m.domain(), m.checkpoint(), m.created(), m.parent(),
        m.disks());
    byte[] manifest = ArchiveJson.manifest(v1);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    org.apache.commons.compress.archivers.tar.TarArchiveOutputStream tar =
        new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(out, 512);
    tar.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
    java.util.function.BiConsumer<String, byte[]> put = (name, bytes) -> {
      try {
        if (aligned && name.startsWith("disks/")) {
          out.write(TarHeaders.formatChunk(name, bytes.length, m.created(), out.size()));
          out.write(bytes);
          out.write(new byte[(int) (TarHeaders.padded(bytes.length) - bytes.length)]);
          return;
        }
        tar.putArchiveEntry(TarHeaders.entry(name, bytes.length, m.created()));
        tar.write(bytes);
        tar.closeArchiveEntry();
        tar.flush();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    put.accept(ArchiveWriter.CHECKPOINT_ENTRY, data.get(ArchiveWriter.CHECKPOINT_ENTRY));
    put.accept(ArchiveWriter.MANIFEST_ENTRY, manifest);
    List<ChunkRecord> index = new ArrayList<>();
    for (ChunkRecord c : chunks) {
      String name = ArchiveWriter.chunkEntryName(c.disk(), c.offset(), c.codec());
      int header = aligned ? TarHeaders.chunkLength(name, c.storedLength(), m.created(), out.size()) : 512;
      index.add(new ChunkRecord(c.disk(), c.offset(), c.rawLength(), c.storedLength(), c.codec(), c.crc32c(),
          out.size() + header));
      put.accept(name, data.get(name));
    }
    byte[] indexJson = ArchiveJson.index(index);
    put.accept(ArchiveWriter.V1_INDEX_ENTRY, indexJson);
    java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
    sha.update(data.get(ArchiveWriter.CHECKPOINT_ENTRY));
    sha.update(manifest);
    sha.update(indexJson);
    put.accept(ArchiveWriter.SEAL_ENTRY, ArchiveJson.seal(new ArchiveJson.Seal(Manifest.FORMAT, 1, index.size(), -1,
        java.util.HexFormat.of().formatHex(sha.digest()))));
    tar.finish();
    return out.toByteArray();
  }
}
