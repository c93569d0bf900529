package org.tidemark.retention;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;
import org.tidemark.archive.StoredBackup;

/**
 * Applies a {@link RetentionPolicy} to a domain of a repository: plans ({@link PrunePlanner}) and
 * removes.
 *
 * <p><b>Crash safety.</b> A run holds the domain's {@link RepositoryLock} from its scan to its last
 * removal, so no backup or consolidation changes the folder meanwhile. It removes archives in
 * {@link PrunePlan#removals()} order (an archive only once every archive to remove that depends on
 * it is gone), each removal made durable (the folder forced to disk) before the next. Killed at any
 * moment, it leaves every kept point, and every point about to be removed that is still there,
 * with its whole chain: restorable. A rerun plans again from what is there and finishes the work
 * (the rules keep the same points when only points they did not keep were removed).
 *
 * <p><b>What a policy never removes.</b> Archives that cannot be read, and points whose chain cannot
 * be restored (with every archive they reach): a domain that has any is <em>damaged</em>, and by
 * default nothing of it is removed ({@link Result#refused()}): the parents of an unreadable archive
 * cannot be known, so removing anything might take what it needs. {@link Options#allowDamaged}
 * prunes the readable, restorable points anyway, keeping the damaged ones. Temporary files of
 * killed writers are removed under the lock and listed ({@link Result#leftoversRemoved()}), as a
 * backup does.
 *
 * <p>A dry run takes no lock and removes nothing (like {@code list}, it reads archives only).
 */
public final class Pruner {
  private final Repository repository;

  /** A pruner of {@code repository}. */
  public Pruner(Repository repository) {
    this.repository = Objects.requireNonNull(repository, "repository");
  }

  /**
   * How to run.
   *
   * @param dryRun plan only: take no lock, remove nothing
   * @param allowDamaged prune a damaged domain's restorable points anyway (the damaged ones are kept)
   * @param lockWait how long to wait for another holder of the domain's lock; zero refuses at once
   */
  public record Options(boolean dryRun, boolean allowDamaged, Duration lockWait) {
    /** Checks the fields. */
    public Options {
      Objects.requireNonNull(lockWait, "lockWait");
      if (lockWait.isNegative()) {
        throw new IllegalArgumentException("lock wait " + lockWait + " (expected zero or more)");
      }
    }
  }

  /**
   * Told of the plan before anything is removed, and of each removal as soon as it is durable (a
   * command prints them as they come, so a killed run's output says what it did).
   */
  @FunctionalInterface
  public interface Listener {
    /** {@code backup}'s archive has been removed. */
    void removed(StoredBackup backup);

    /** The plan is made (under the lock); removals follow unless the domain is damaged. */
    default void planned(PrunePlan plan) {}

    /** A listener that does nothing. */
    Listener NONE = b -> {};
  }

  /**
   * What a run did.
   *
   * @param plan the plan, made under the lock (or without one, for a dry run)
   * @param removed the archives removed, in the order they were
   * @param leftoversRemoved temporary files of killed writers removed
   * @param refused whether nothing was removed because the domain is damaged
   * @param dryRun whether it was a dry run
   */
  public record Result(PrunePlan plan, List<StoredBackup> removed, List<Path> leftoversRemoved, boolean refused,
      boolean dryRun) {
    /** Freezes the lists. */
    public Result {
      removed = List.copyOf(removed);
      leftoversRemoved = List.copyOf(leftoversRemoved);
    }
  }

  /**
   * Prunes one domain.
   *
   * @throws org.tidemark.archive.RepositoryLockedException when another run holds the domain's lock
   *     after the wait; nothing was done
   * @throws IOException when the folder cannot be read or an archive removed; what was removed before
   *     stays removed, and every point left is restorable
   */
  public Result prune(String domain, RetentionPolicy policy, Options options, Listener listener) throws IOException {
    Objects.requireNonNull(policy, "policy");
    if (options.dryRun()) {
      PrunePlan plan = PrunePlanner.plan(domain, repository.chains(domain), policy);
      listener.planned(plan);
      return new Result(plan, List.of(), List.of(), false, true);
    }
    try (RepositoryLock lock = repository.lock(domain, "prune (" + policy + ")", options.lockWait())) {
      List<Path> leftovers = repository.removeLeftovers(domain);
      PrunePlan plan = PrunePlanner.plan(domain, repository.chains(domain), policy);
      listener.planned(plan);
      if (plan.damaged() && !options.allowDamaged()) {
        return new Result(plan, List.of(), leftovers, true, false);
      }
      List<StoredBackup> removed = new ArrayList<>();
      String folder = Repository.fileName(domain) + "/";
      for (StoredBackup b : plan.removals()) {
        repository.store().delete(folder + b.id());
        org.tidemark.store.Publish.forceDirectory(repository.domainDir(domain));
        removed.add(b);
        listener.removed(b);
      }
      return new Result(plan, removed, leftovers, false, false);
    }
  }
}
