package org.tidemark.cli;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.tidemark.backup.Progress;

/** A progress bar on stderr, in MiB, for a terminal only (see {@link OutputOptions#progress()}). */
final class TerminalProgress implements Progress {
  private ProgressBar bar;

  /** The progress to report for these options: a bar on a terminal, nothing otherwise. */
  static Progress forOptions(OutputOptions options) {
    return options.progress() ? new TerminalProgress() : Progress.NONE;
  }

  @Override
  public void start(String task, long totalBytes) {
    bar = new ProgressBarBuilder()
        .setTaskName(Printable.escape(task)) // a domain or checkpoint name from a file
        .setInitialMax(totalBytes)
        .setUnit(" MiB", 1 << 20)
        .setStyle(ProgressBarStyle.ASCII)
        .setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(System.err))
        .setUpdateIntervalMillis(250)
        .showSpeed()
        .build();
  }

  @Override
  public void advance(long bytes) {
    if (bar != null) {
      bar.stepBy(bytes);
    }
  }

  @Override
  public void finish() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }
}
