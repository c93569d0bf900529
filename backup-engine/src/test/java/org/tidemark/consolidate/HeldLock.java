package org.tidemark.consolidate;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.tidemark.archive.Repository;
import org.tidemark.archive.RepositoryLock;

/**
 * A domain's repository lock held by another thread until closed, as another run would hold it
 * (the lock is reentrant for the thread that holds it, so a test cannot hold it on its own thread).
 */
public final class HeldLock implements AutoCloseable {
  private final CountDownLatch release = new CountDownLatch(1);
  private final Thread holder;

  private HeldLock(Repository repo, String domain, String operation) throws InterruptedException {
    CountDownLatch locked = new CountDownLatch(1);
    holder = new Thread(() -> {
      try (RepositoryLock held = repo.lock(domain, operation, Duration.ZERO)) {
        locked.countDown();
        release.await();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "held-lock");
    holder.start();
    locked.await();
  }

  /** Takes the lock of {@code domain} on another thread for {@code operation}; returns once it is held. */
  public static HeldLock hold(Repository repo, String domain, String operation) throws InterruptedException {
    return new HeldLock(repo, domain, operation);
  }

  @Override
  public void close() throws InterruptedException {
    release.countDown();
    holder.join();
  }
}
