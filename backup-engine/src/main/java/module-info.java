/**
 * Tidemark's backup engine: disk sources (qcow2, raw), the archive format on a store, backups,
 * restores and verification. {@code org.tidemark.internal} is not exported: it is no API.
 */
@SuppressWarnings("requires-automatic")
module org.tidemark.engine {
  requires transitive org.tidemark.model;
  requires transitive org.tidemark.xml;
  requires org.apache.commons.compress;
  requires com.github.luben.zstd_jni;
  requires com.fasterxml.jackson.core;
  requires com.sun.jna;
  requires org.slf4j;
  requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT (looked up by name): direct writes

  exports org.tidemark.archive;
  exports org.tidemark.backup;
  exports org.tidemark.consolidate;
  exports org.tidemark.disk;
  exports org.tidemark.engine;
  exports org.tidemark.image;
  exports org.tidemark.qcow2;
  exports org.tidemark.restore;
  exports org.tidemark.retention;
  exports org.tidemark.store;
}
