package org.tidemark.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tidemark.disk.DiskSource;
import org.tidemark.disk.Images;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tidemark image ...}: look at disk images with Tidemark's own reader. */
@Command(name = "image", mixinStandardHelpOptions = true,
    description = "Inspect disk images (qcow2 or raw) with Tidemark's native reader.",
    subcommands = {ImageCommand.Compare.class, CommandLine.HelpCommand.class})
final class ImageCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a subcommand: see 'tidemark image --help'.");
  }

  @Command(name = "compare", mixinStandardHelpOptions = true,
      description = {"Compare the guest-visible contents of two images (qcow2 or raw, any mix).",
          "Exits 0 when identical, 1 when they differ (and says where)."})
  static final class Compare implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "IMAGE1") Path first;
    @Parameters(index = "1", paramLabel = "IMAGE2") Path second;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      long diff;
      long s1;
      long s2;
      try (DiskSource a = Images.open(first); DiskSource b = Images.open(second)) {
        s1 = a.virtualSize();
        s2 = b.virtualSize();
        diff = Images.firstDifference(a, b);
      }
      if (json) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("identical", diff < 0);
        doc.put("firstDifference", diff < 0 ? null : diff);
        doc.put("sizes", new long[] {s1, s2});
        Json.print(spec.commandLine().getOut(), doc);
      } else if (diff < 0) {
        spec.commandLine().getOut().println("Images are identical.");
      } else if (s1 != s2) {
        spec.commandLine().getOut().println("Images differ: sizes " + s1 + " and " + s2 + " bytes.");
      } else {
        spec.commandLine().getOut().println("Images differ at guest offset " + diff + ".");
      }
      spec.commandLine().getOut().flush();
      return diff < 0 ? ExitCodes.OK : ExitCodes.DIFFERENT;
    }
  }
}
