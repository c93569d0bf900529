package org.tidemark.libvirt;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Freezes and thaws a running domain's guest file systems through its guest agent
 * ({@code guest-fsfreeze-freeze}, {@code guest-fsfreeze-thaw}) around the start of a backup job.
 *
 * <p>A freeze the agent does not answer in time may still happen in the guest (a long flush, a slow
 * fsfreeze hook), and a Linux qemu-ga never thaws by itself: the guest's writes would hang. So a
 * timed-out freeze is followed by thaws until one is answered. A freeze the agent refuses with an
 * answer (for example, file systems already frozen by someone else) is left alone.
 */
final class GuestFreeze {
  private static final Logger LOG = LoggerFactory.getLogger(GuestFreeze.class);
  private static final String FREEZE = "{\"execute\":\"guest-fsfreeze-freeze\"}";
  private static final String THAW = "{\"execute\":\"guest-fsfreeze-thaw\"}";
  private static final Pattern FREEZE_REPLY = Pattern.compile("\"return\"\\s*:\\s*(\\d{1,9})");

  private final Domain domain;
  private final String domainName;
  private final int agentTimeoutSeconds;

  GuestFreeze(Domain domain, String domainName, int agentTimeoutSeconds) {
    this.domain = domain;
    this.domainName = domainName;
    this.agentTimeoutSeconds = agentTimeoutSeconds;
  }

  /**
   * What a freeze did.
   *
   * @param frozen whether the agent froze the file systems (they must be thawed)
   * @param fileSystems how many it froze, when it said so
   * @param problem why they were not frozen, when a freeze was asked for and failed
   */
  record Outcome(boolean frozen, OptionalInt fileSystems, Optional<String> problem) {}

  /**
   * Freezes the guest's file systems as {@code mode} asks.
   *
   * @throws QuiesceFailedException when {@code mode} is {@link LiveBackupRunner.Quiesce#REQUIRED} and
   *     the agent did not freeze them
   */
  Outcome freeze(LiveBackupRunner.Quiesce mode) throws QuiesceFailedException {
    if (mode == LiveBackupRunner.Quiesce.OFF) {
      return new Outcome(false, OptionalInt.empty(), Optional.empty());
    }
    long asked = System.nanoTime();
    try {
      OptionalInt count = frozenCount(domain.qemuAgentCommand(FREEZE, agentTimeoutSeconds, 0));
      return new Outcome(true, count, Optional.empty());
    } catch (LibvirtException e) {
      if (System.nanoTime() - asked >= TimeUnit.SECONDS.toNanos(agentTimeoutSeconds)) {
        thawAfterTimeout();
      }
      String why = "the guest agent did not freeze the file systems: " + String.valueOf(e.getMessage()).strip();
      if (mode == LiveBackupRunner.Quiesce.REQUIRED) {
        throw new QuiesceFailedException(domainName, why);
      }
      // the caller presents it (Result.quiesceProblem): logged for the record only
      LOG.info("domain {}: {}; backing up without (crash-consistent disks)", domainName, why);
      return new Outcome(false, OptionalInt.empty(), Optional.of(why));
    }
  }

  /** Thaws the file systems when {@code outcome} says they were frozen; a failure is logged. */
  void thawIfFrozen(Outcome outcome) {
    if (outcome.frozen()) {
      thaw();
    }
  }

  /**
   * The number of file systems in the agent's answer to {@code guest-fsfreeze-freeze} ({@code
   * {"return":N}}); empty when the answer holds none.
   */
  static OptionalInt frozenCount(String reply) {
    Matcher m = FREEZE_REPLY.matcher(String.valueOf(reply));
    return m.find() ? OptionalInt.of(Integer.parseInt(m.group(1))) : OptionalInt.empty();
  }

  /**
   * Thaws the guest's file systems; a failure is logged (a Linux qemu-ga does not thaw by itself:
   * the guest's writes wait until someone runs {@code virsh domfsthaw}).
   */
  private void thaw() {
    try {
      domain.qemuAgentCommand(THAW, agentTimeoutSeconds, 0);
    } catch (LibvirtException e) {
      LOG.warn("domain {}: thawing the guest's file systems: {} (thaw them with virsh domfsthaw)", domainName,
          String.valueOf(e.getMessage()).strip());
    }
  }

  /**
   * Thaws after a freeze the agent did not answer in time. The agent answers the thaw once it is
   * done with the freeze; libvirt refuses commands meanwhile ("not available for now"), so the thaw
   * is asked again until it is answered or twice the agent timeout has passed. Thawing file systems
   * that are not frozen does nothing.
   */
  private void thawAfterTimeout() {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2L * agentTimeoutSeconds);
    while (true) {
      try {
        domain.qemuAgentCommand(THAW, agentTimeoutSeconds, 0);
        LOG.info("domain {}: thawed the guest's file systems after the freeze timed out", domainName);
        return;
      } catch (LibvirtException e) {
        if (System.nanoTime() > deadline) {
          LOG.warn("domain {}: the freeze timed out, and so did the thaw: {}; the guest's file systems may be frozen"
              + " (thaw them with virsh domfsthaw)", domainName, String.valueOf(e.getMessage()).strip());
          return;
        }
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
