/**
 * The backup archive format and the repository of archives.
 *
 * <p>An archive is a POSIX tar holding one backup: the checkpoint XML, a JSON manifest, the
 * changed (or all) guest data cut into independently compressed, CRC-32C-checked chunks, an index
 * of the chunks and a seal; the grammar is in {@link org.tidemark.archive.ArchiveWriter} and in
 * {@code docs/archive-format.md}. {@link org.tidemark.archive.ArchiveWriter} writes one in a single
 * pass under a temporary name; {@link org.tidemark.archive.ArchiveReader} reads one with random
 * access to chunks; {@link org.tidemark.archive.ArchiveVerifier} checks one completely; {@link
 * org.tidemark.archive.Repository} lists the archives of a domain (rebuilt from the archives
 * themselves) and resolves restore chains; {@link org.tidemark.archive.RestorePlanner} maps every
 * guest byte of a restored disk to the chunk holding it (newest wins).
 *
 * <p>Every problem with an archive is an {@link org.tidemark.archive.ArchiveException}: {@link
 * org.tidemark.archive.ArchiveCorruptException} names the archive, entry, disk and guest offset;
 * {@link org.tidemark.archive.ArchiveVersionException} says the archive is newer than this code.
 */
package org.tidemark.archive;
