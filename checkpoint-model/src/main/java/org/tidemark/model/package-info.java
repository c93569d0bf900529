/**
 * The checkpoint model: immutable values for libvirt checkpoints and snapshots, and the tree that
 * relates them.
 *
 * <p>A {@link org.tidemark.model.Moment} is "the domain at a moment in time": a name, a description,
 * the name of its parent moment, a creation time and, optionally, the domain definition of that
 * moment. {@link org.tidemark.model.Checkpoint} adds the per-disk bitmap records that make
 * incremental backup possible; {@link org.tidemark.model.Snapshot} adds the state, memory and disk
 * records of a snapshot. {@link org.tidemark.model.MomentTree} holds a set of moments with libvirt's
 * semantics for parents, the current moment, deletion and redefinition.
 *
 * <p>The model has no XML and no I/O: {@code org.tidemark.xml} reads and writes it. All values are
 * immutable and thread-safe; {@code MomentTree} is the one mutable type and is not thread-safe.
 * No method accepts or returns {@code null} unless its documentation says so; absent optional
 * values are {@link java.util.Optional} or {@link java.util.OptionalLong}.
 */
package org.tidemark.model;
