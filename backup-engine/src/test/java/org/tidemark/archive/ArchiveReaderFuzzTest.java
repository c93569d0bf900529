package org.tidemark.archive;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;
import org.apache.commons.compress.utils.SeekableInMemoryByteChannel;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes archive reading: open (structure, seal, manifest, index), every chunk read and checked,
 * and {@link ArchiveVerifier#verify}, on mutated archive bytes. Only {@link ArchiveException} may
 * escape the reader, and verify must report problems as findings, never throw on a readable file;
 * any other throwable, an OOM or a hang is a finding of the fuzzer.
 *
 * <p>Each input is tried twice: as it is, and "resealed" (when its tar structure still parses,
 * the seal's SHA-256 is recomputed in place over the mutated metadata), so that mutations of the
 * manifest and index reach the code past the seal check instead of stopping at it.
 *
 * <p>Plain {@code mvn test} replays the committed inputs under {@code
 * ArchiveReaderFuzzTestInputs/readAndVerify/} (seeds written by {@link ArchiveWriter}, see {@link
 * ArchiveFuzzSeedsTest}); {@code JAZZER_FUZZ=1} fuzzes (see docs/reliability.md).
 */
class ArchiveReaderFuzzTest {
  private static final Path FILE;
  private static final byte[] BUFFER = new byte[ArchiveWriter.MAX_CHUNK];

  static {
    try {
      Path dir = Files.createTempDirectory("tidemark-archive-fuzz");
      dir.toFile().deleteOnExit();
      FILE = dir.resolve("fuzz.tar");
      FILE.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  @FuzzTest(maxDuration = "10m")
  @Timeout(value = 20, unit = TimeUnit.SECONDS)
  void readAndVerify(byte[] bytes) throws IOException {
    check(bytes);
    byte[] resealed = reseal(bytes);
    if (resealed != null) {
      check(resealed);
    }
  }

  private static void check(byte[] bytes) throws IOException {
    Files.write(FILE, bytes);
    try (ArchiveReader r = ArchiveReader.open(FILE)) {
      r.manifest().disks().forEach(d -> r.chunks(d.name()));
      for (ChunkRecord c : r.chunks()) {
        try {
          r.readChunk(c, BUFFER);
        } catch (ArchiveCorruptException expected) {
          // a typed refusal of one chunk
        }
      }
    } catch (ArchiveException expected) {
      // a typed refusal of the archive
    }
    List<Finding> findings = ArchiveVerifier.verify(FILE);
    for (Finding f : findings) {
      if (f.problem() == null || f.problem().isEmpty()) {
        throw new AssertionError("a finding without a problem: " + f);
      }
    }
  }

  /**
   * The input with its seal's SHA-256 recomputed over its (possibly mutated) metadata entries
   * ({@code index.bin}, or {@code index.json} in a version 1 archive), or
   * null when its tar structure does not parse or it has no seal to rewrite.
   */
  static byte[] reseal(byte[] bytes) {
    Map<String, TarArchiveEntry> entries = new HashMap<>();
    try (TarFile tar = new TarFile(new SeekableInMemoryByteChannel(bytes))) {
      for (TarArchiveEntry e : tar.getEntries()) {
        entries.putIfAbsent(e.getName(), e);
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    TarArchiveEntry seal = entries.get(ArchiveWriter.SEAL_ENTRY);
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    String index = entries.containsKey(ArchiveWriter.INDEX_ENTRY) ? ArchiveWriter.INDEX_ENTRY : ArchiveWriter.V1_INDEX_ENTRY;
    for (String name : List.of(ArchiveWriter.CHECKPOINT_ENTRY, ArchiveWriter.MANIFEST_ENTRY, index)) {
      TarArchiveEntry e = entries.get(name);
      if (e == null || !inside(bytes, e)) {
        return null;
      }
      sha.update(bytes, (int) e.getDataOffset(), (int) e.getSize());
    }
    if (seal == null || !inside(bytes, seal)) {
      return null;
    }
    String text = new String(bytes, (int) seal.getDataOffset(), (int) seal.getSize(), StandardCharsets.ISO_8859_1);
    int key = text.indexOf("\"sha256\"");
    int quote = key < 0 ? -1 : text.indexOf('"', text.indexOf(':', key) + 1);
    if (quote < 0 || quote + 65 > text.length()) {
      return null;
    }
    byte[] hex = java.util.HexFormat.of().formatHex(sha.digest()).getBytes(StandardCharsets.US_ASCII);
    byte[] out = bytes.clone();
    System.arraycopy(hex, 0, out, (int) seal.getDataOffset() + quote + 1, 64);
    return out;
  }

  private static boolean inside(byte[] bytes, TarArchiveEntry e) {
    return e.getDataOffset() >= 0 && e.getSize() >= 0 && e.getDataOffset() + e.getSize() <= bytes.length;
  }
}
