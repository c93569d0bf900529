/**
 * The storage seam of backup archives: {@link org.tidemark.store.ArchiveStore} lists archives,
 * opens one for positional reads ({@link org.tidemark.store.StoreInput}), creates one as a pending
 * output that becomes visible only when committed ({@link org.tidemark.store.StoreOutput}), and
 * deletes one. {@link org.tidemark.store.LocalStore} is the local file system implementation.
 */
package org.tidemark.store;
