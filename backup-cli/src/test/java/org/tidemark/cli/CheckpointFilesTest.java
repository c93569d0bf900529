package org.tidemark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.tidemark.xml.CheckpointXmlException;

/**
 * The background validation of checkpoint files against libvirt's grammar: whatever ends its
 * thread, the backup's last check returns with a typed error instead of waiting for ever.
 */
class CheckpointFilesTest {
  private static final String CP1 = Path.of("..", "sample", "checkpoints", "cp1.xml").toString();
  private static final Duration NEVER_THIS_LONG = Duration.ofSeconds(60);

  private static CheckpointFiles failingWith(Throwable failure, AtomicReference<Thread> ranOn) throws Exception {
    CheckpointFiles files = new CheckpointFiles((xml, file, options) -> {
      ranOn.set(Thread.currentThread());
      if (failure instanceof Error e) {
        throw e;
      }
      throw (RuntimeException) failure;
    });
    files.read(CP1, false);
    return files;
  }

  @Test
  void anOutOfMemoryErrorOnTheValidationThreadIsATypedErrorNamingTheFile() throws Exception {
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    CheckpointFiles files = failingWith(new OutOfMemoryError("Java heap space"), ranOn);
    files.startHostValidation();
    CheckpointXmlException e = assertTimeoutPreemptively(NEVER_THIS_LONG,
        () -> assertThrows(CheckpointXmlException.class, files::awaitHostValidation));
    assertEquals(CP1, e.resource());
    assertTrue(e.problem().contains("ran out of memory"), e.getMessage());
    assertTrue(ranOn.get() != Thread.currentThread(), "validated on a background thread");
    assertEquals(ExitCodes.INVALID_INPUT, ErrorReporter.exitCodeFor(e));
  }

  @Test
  void aStackOverflowOnTheValidationThreadIsATypedError() throws Exception {
    CheckpointFiles files = failingWith(new StackOverflowError(), new AtomicReference<>());
    files.startHostValidation();
    CheckpointXmlException e = assertTimeoutPreemptively(NEVER_THIS_LONG,
        () -> assertThrows(CheckpointXmlException.class, files::awaitHostValidation));
    assertTrue(e.problem().contains("overflowed its stack"), e.getMessage());
  }

  @Test
  void anyOtherErrorDoesNotLeaveTheMainThreadWaiting() throws Exception {
    CheckpointFiles files = failingWith(new LinkageError("a class went missing"), new AtomicReference<>());
    files.startHostValidation();
    CheckpointXmlException e = assertTimeoutPreemptively(NEVER_THIS_LONG,
        () -> assertThrows(CheckpointXmlException.class, files::awaitHostValidation));
    assertTrue(e.problem().contains("LinkageError: a class went missing"), e.getMessage());
  }

  @Test
  void aRuntimeExceptionIsABugReportedAsSuch() throws Exception {
    IllegalStateException bug = new IllegalStateException("a bug");
    CheckpointFiles files = failingWith(bug, new AtomicReference<>());
    files.startHostValidation();
    IllegalStateException e = assertTimeoutPreemptively(NEVER_THIS_LONG,
        () -> assertThrows(IllegalStateException.class, files::awaitHostValidation));
    assertSame(bug, e);
    assertEquals(ExitCodes.INTERNAL_ERROR, ErrorReporter.exitCodeFor(e));
  }
}
