/**
 * Consolidation (a synthetic full): {@link org.tidemark.consolidate.Consolidator} rewrites the
 * archive of one point of a backup chain as a full archive, built from the repository's archives
 * alone (no source disk, no VM), and puts it in place of the point's archive under the same name
 * ({@link org.tidemark.store.ArchiveStore#replaceOutput}), so that the later incrementals stay
 * linked to it and the older archives are no longer needed by it. The chain is read as a restore
 * reads it ({@link org.tidemark.archive.RestorePlanner}, {@link org.tidemark.restore.PlanCopy});
 * the new archive is written as a backup writes one ({@link org.tidemark.archive.ArchiveWriter})
 * and checked before the swap: its data as it is made from the chain's checked chunks, its
 * structure from the file ({@link org.tidemark.archive.ArchiveVerifier#verifyStructure}), and all of
 * it read back when the request asks ({@link org.tidemark.consolidate.ConsolidateRequest#readBack}).
 */
package org.tidemark.consolidate;
