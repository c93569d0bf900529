package org.tidemark.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs commands through one {@code virsh -q -c test:///default} process (the test driver's state
 * lives only as long as the process), commands on stdin. In that mode virsh echoes each command
 * after a {@code "virsh # "} prompt, which splits the merged output into one reply per command.
 * Fails the test, never skips it, when virsh is missing: CI installs libvirt-clients.
 */
public final class Virsh {
  /** One command and everything it printed (stdout and stderr, in order), trimmed. */
  public record Reply(String command, String output) {
    /** Whether virsh reported an error for the command. */
    public boolean failed() {
      return output.startsWith("error:") || output.contains("\nerror:");
    }
  }

  private Virsh() {}

  /** Runs {@code commands} in one virsh process; one reply per command. */
  public static List<Reply> run(Path workDir, List<String> commands) throws IOException, InterruptedException {
    Path script = Files.createTempFile(workDir, "virsh", ".cmds");
    Files.writeString(script, String.join("\n", commands) + "\n");
    Path out = Files.createTempFile(workDir, "virsh", ".out");
    Process p;
    try {
      p = new ProcessBuilder("virsh", "-q", "-c", "test:///default")
          .redirectInput(script.toFile())
          .redirectOutput(out.toFile())
          .redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      fail("virsh is needed as the oracle of these tests (apt-get install libvirt-clients): " + e.getMessage());
      throw e;
    }
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "virsh did not finish in 120 s");
    String text = Files.readString(out, StandardCharsets.UTF_8);
    List<Reply> replies = new ArrayList<>();
    String[] parts = text.split("virsh # ", -1);
    for (int i = 1; i < parts.length; i++) {
      String part = parts[i];
      int nl = part.indexOf('\n');
      if (nl < 0 || part.substring(0, nl).isBlank()) {
        continue; // the final prompt, at end of input
      }
      replies.add(new Reply(part.substring(0, nl).trim(), part.substring(nl + 1).trim()));
    }
    assertEquals(commands.size(), replies.size(), "one reply per command:\n" + text);
    return replies;
  }
}
