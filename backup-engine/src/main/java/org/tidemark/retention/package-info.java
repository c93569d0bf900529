/**
 * Retention: which backups of a domain to keep, and removing the others without ever leaving a
 * kept point, or one about to go, unrestorable.
 *
 * <p>A {@link org.tidemark.retention.RetentionPolicy} names the points to keep as restic and borg
 * do ({@code keep-last}, {@code keep-hourly}, {@code keep-daily}, {@code keep-weekly}, {@code
 * keep-monthly}, {@code keep-yearly}, buckets in a time zone). {@link
 * org.tidemark.retention.PrunePlanner} turns a policy and a domain's {@link
 * org.tidemark.archive.Chains} into a {@link org.tidemark.retention.PrunePlan}: per archive, keep or
 * remove and why. What is kept is the union of the restore chains of the points the rules keep,
 * per disk, so an incremental never loses an archive it needs. Archives that cannot be read and
 * points whose chain cannot be restored are never removed by a policy. {@link
 * org.tidemark.retention.Pruner} carries a plan out under the domain's repository lock, removing
 * dependents before what they depend on, so a run killed at any moment leaves every point either
 * fully restorable or gone, and the next run finishes the work.
 */
package org.tidemark.retention;
