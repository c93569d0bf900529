/**
 * Tidemark's checkpoint model: moments (checkpoints and snapshots), their disks, and the checkpoint
 * tree. Immutable values with builders; no XML and no I/O.
 */
module org.tidemark.model {
  exports org.tidemark.model;
}
