package org.tidemark.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.tidemark.archive.Codec;
import org.tidemark.archive.Repository;
import org.tidemark.backup.Progress;
import org.tidemark.engine.EngineOptions;

/**
 * Freezing through a real guest agent: a tiny Linux guest ({@link AgentGuest}) runs qemu-ga. Ground
 * truth from the guest: the agent's log and its fsfreeze hook's lines on the serial console, and
 * the agent's own {@code guest-fsfreeze-status} after each run.
 *
 * <p>A freeze the agent answers too late (its fsfreeze hook sleeps 4 s, the runner waits 1 s) still
 * happens in the guest, and a Linux qemu-ga never thaws by itself: the runner must thaw, or every
 * write of the guest hangs after the backup. The code before this test left the guest frozen.
 */
@Timeout(300)
class GuestAgentQuiesceTest {
  @TempDir Path dir;

  @Test
  void aRealAgentFreezesWhileTheJobBeginsAndALateFreezeIsThawed() throws Exception {
    LibvirtSandbox libvirt = LibvirtSandbox.shared();
    Path work = Files.createTempDirectory(Path.of("/tmp"), "tm-w");
    try (AgentGuest guest = AgentGuest.start(libvirt, "tm-ga-", dir); Closing conn = new Closing(libvirt.uri())) {
      Repository repo = Repository.at(dir.resolve("repo"));
      LiveBackupRunner runner = new LiveBackupRunner(repo, conn.connect);

      int mark = guest.consoleLog().length();
      LiveBackupRunner.Result frozen = runner.run(guest.name(), options(LiveBackupRunner.Quiesce.REQUIRED, work),
          Progress.NONE);
      assertTrue(frozen.quiesced(), frozen.toString());
      assertEquals(java.util.OptionalInt.of(1), frozen.frozenFileSystems(), "the guest mounted one file system");
      assertEquals(Optional.empty(), frozen.quiesceProblem());
      assertEquals("thawed", guest.freezeStatus());
      String log = guest.consoleLog().substring(mark);
      assertInOrder(log, "data: {\"execute\":\"guest-fsfreeze-freeze\"}", "tidemark-guest: fsfreeze-hook freeze",
          "disabling logging due to filesystem freeze", "logging re-enabled due to filesystem unfreeze",
          "tidemark-guest: fsfreeze-hook thaw");

      // a freeze the agent answers after the runner gave up: the runner thaws it
      // (the runner waits 2 s for the freeze, then asks for the thaw for up to 4 s more: the hook's 3 s
      // sleep ends well inside that, even on a loaded machine)
      guest.writeFile("/run/slow-freeze", "3\n");
      LiveBackupRunner impatient = new LiveBackupRunner(repo, conn.connect, EngineOptions.defaults(), 2);
      Thread.sleep(1100); // checkpoint names are stamped to the second
      mark = guest.consoleLog().length();
      LiveBackupRunner.Result late = impatient.run(guest.name(), options(LiveBackupRunner.Quiesce.TRY, work), Progress.NONE);
      assertFalse(late.quiesced(), late.toString());
      assertEquals(java.util.OptionalInt.empty(), late.frozenFileSystems());
      assertTrue(late.quiesceProblem().orElseThrow().contains("guest agent"), late.toString());
      assertEquals("thawed", guest.freezeStatus(), "the late freeze is thawed; console: " + guest.consoleLog().substring(mark));
      assertInOrder(guest.consoleLog().substring(mark), "tidemark-guest: fsfreeze hook sleeps 3 s",
          "logging re-enabled due to filesystem unfreeze", "tidemark-guest: fsfreeze-hook thaw");

      // the same with --quiesce=required: refused, nothing made, and the guest thawed
      Thread.sleep(1100);
      String checkpoints = libvirt.virsh("checkpoint-list", guest.name(), "--name");
      assertThrows(QuiesceFailedException.class,
          () -> impatient.run(guest.name(), options(LiveBackupRunner.Quiesce.REQUIRED, work), Progress.NONE));
      assertEquals("thawed", guest.freezeStatus());
      assertEquals(checkpoints, libvirt.virsh("checkpoint-list", guest.name(), "--name"), "no checkpoint made");
    }
  }

  private static LiveBackupRunner.Options options(LiveBackupRunner.Quiesce quiesce, Path work) {
    return new LiveBackupRunner.Options(false, Set.of(), Codec.ZSTD, Duration.ZERO, work, 1, 0, quiesce,
        Optional.empty(), "test");
  }

  /** Fails unless {@code text} holds each of {@code parts}, in that order. */
  static void assertInOrder(String text, String... parts) {
    int at = 0;
    for (String p : parts) {
      int i = text.indexOf(p, at);
      assertTrue(i >= 0, "'" + p + "' after offset " + at + " of: " + text);
      at = i + p.length();
    }
  }

  /** A libvirt connection closed by try-with-resources. */
  private static final class Closing implements AutoCloseable {
    final Connect connect;

    Closing(String uri) throws LibvirtException {
      connect = new Connect(uri);
    }

    @Override
    public void close() throws LibvirtException {
      connect.close();
    }
  }
}
