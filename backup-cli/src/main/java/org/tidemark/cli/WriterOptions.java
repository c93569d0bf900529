package org.tidemark.cli;

import java.time.Duration;
import org.tidemark.archive.Codec;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Options of the commands that write archives (backup, consolidate): the chunks' codec and how long
 * to wait for the domain's lock. Checked when read, with a usage error naming the option.
 */
final class WriterOptions {
  @Option(names = "--compress", paramLabel = "CODEC", defaultValue = "zstd",
      description = "Chunk compression: zstd (default), deflate or none.")
  String compress;

  @Option(names = "--lock-wait", paramLabel = "SECONDS", defaultValue = "0",
      description = {"When another tidemark run holds the domain's lock, wait up to SECONDS for it (default: "
          + "${DEFAULT-VALUE}, refuse at once with exit code 8)."})
  long lockWaitSeconds;

  /** The codec {@code --compress} names; a usage error for another name. */
  Codec codec(CommandLine cli) {
    try {
      return Codec.fromId(compress);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(cli, "--compress: " + e.getMessage());
    }
  }

  /** How long {@code --lock-wait} waits; a usage error when negative. */
  Duration lockWait(CommandLine cli) {
    if (lockWaitSeconds < 0) {
      throw new CommandLine.ParameterException(cli, "--lock-wait " + lockWaitSeconds + ": expected 0 or more seconds");
    }
    return Duration.ofSeconds(lockWaitSeconds);
  }
}
