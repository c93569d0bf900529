package org.tidemark.archive;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.List;

/** The JSON mapper of the archive's metadata entries, and the shapes of the last two. */
final class ArchiveJson {
  static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
          .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** {@code index.json}: every chunk of the archive, in archive order. */
  record Index(List<ChunkRecord> chunks) {
    Index {
      chunks = List.copyOf(chunks);
    }
  }

  /** {@code seal.json}: the last entry; its presence says the archive was finished. */
  record Seal(String format, int formatVersion, int chunks, String sha256) {}

  private ArchiveJson() {}
}
