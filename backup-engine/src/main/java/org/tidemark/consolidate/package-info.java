/**
 * Consolidation (a synthetic full): {@link org.tidemark.consolidate.Consolidator} rewrites the
 * archive of one point of a backup chain as a full archive, built from the repository's archives
 * alone (no source disk, no VM), and puts it in place of the point's archive under the same name
 * ({@link org.tidemark.store.ArchiveStore#replaceOutput}), so that the later incrementals stay
 * linked to it and the older archives are no longer needed by it. The chain is read as a restore
 * reads it ({@link org.tidemark.archive.RestorePlanner}, {@link org.tidemark.restore.PlanCopy});
 * the new archive is written as a backup writes one ({@link org.tidemark.archive.ArchiveWriter})
 * and verified ({@link org.tidemark.archive.ArchiveVerifier}) before the swap.
 */
package org.tidemark.consolidate;
