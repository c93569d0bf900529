package org.tidemark.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tidemark.disk.DiskSource;
import org.tidemark.image.Images;
import org.tidemark.qcow2.Qcow2Bitmap;
import org.tidemark.qcow2.Qcow2Image;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code tidemark image ...}: look at disk images with Tidemark's own reader. */
@Command(name = "image", mixinStandardHelpOptions = true,
    description = "Inspect disk images (qcow2 or raw) with Tidemark's native reader.",
    subcommands = {
      ImageCommand.Info.class,
      ImageCommand.MapCmd.class,
      ImageCommand.BitmapCmd.class,
      ImageCommand.Compare.class,
      CommandLine.HelpCommand.class
    })
final class ImageCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a subcommand: see 'tidemark image --help'.");
  }

  @Command(name = "info", mixinStandardHelpOptions = true,
      description = "Facts of a qcow2 image: sizes, version, bitmaps (the fields of qemu-img info --output=json).")
  static final class Info implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON (the default and only output).")
    boolean json;

    @Parameters(paramLabel = "FILE") Path file;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      try (Qcow2Image q = Qcow2Image.open(file)) {
        // keys in qemu-img info's order; actual-size and full-backing-filename are left out
        Map<String, Object> doc = new LinkedHashMap<>();
        List<Map<String, Object>> snapshots = new ArrayList<>();
        for (org.tidemark.qcow2.Qcow2Snapshot sn : q.snapshots()) {
          Map<String, Object> m = new LinkedHashMap<>();
          sn.icount().ifPresent(n -> m.put("icount", n));
          m.put("vm-clock-nsec", sn.vmClockNsec() % 1_000_000_000L);
          m.put("name", sn.name());
          m.put("date-sec", sn.dateSec());
          m.put("date-nsec", sn.dateNsec());
          m.put("vm-clock-sec", sn.vmClockNsec() / 1_000_000_000L);
          m.put("id", sn.id());
          m.put("vm-state-size", sn.vmStateSize());
          snapshots.add(m);
        }
        if (!snapshots.isEmpty()) {
          doc.put("snapshots", snapshots);
        }
        q.backingFormat().ifPresent(f -> doc.put("backing-filename-format", f));
        doc.put("virtual-size", q.virtualSize());
        doc.put("filename", file.toString());
        doc.put("cluster-size", q.clusterSize());
        doc.put("format", "qcow2");
        List<Map<String, Object>> bitmaps = new ArrayList<>();
        for (Qcow2Bitmap b : q.bitmaps()) {
          Map<String, Object> m = new LinkedHashMap<>();
          List<String> flags = new ArrayList<>();
          if (b.inUse()) {
            flags.add("in-use");
          }
          if (b.auto()) {
            flags.add("auto");
          }
          m.put("flags", flags);
          m.put("name", b.name());
          m.put("granularity", b.granularity());
          bitmaps.add(m);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("compat", q.version() == 2 ? "0.10" : "1.1");
        data.put("compression-type", q.compressionType());
        if (q.version() == 3) {
          data.put("lazy-refcounts", q.lazyRefcounts());
        }
        if (!bitmaps.isEmpty()) {
          data.put("bitmaps", bitmaps);
        }
        data.put("refcount-bits", q.refcountBits());
        q.dataFile().ifPresent(f -> {
          data.put("data-file", f);
          data.put("data-file-raw", q.dataFileRaw());
        });
        if (q.version() == 3) {
          data.put("corrupt", q.corrupt());
          data.put("extended-l2", q.extendedL2());
        }
        Map<String, Object> specific = new LinkedHashMap<>();
        specific.put("type", "qcow2");
        specific.put("data", data);
        doc.put("format-specific", specific);
        q.backingFileName().ifPresent(n -> doc.put("backing-filename", n));
        doc.put("dirty-flag", q.dirty());
        Json.print(spec.commandLine().getOut(), doc);
      }
      return ExitCodes.OK;
    }
  }

  @Command(name = "map", mixinStandardHelpOptions = true,
      description = "The allocation map of a qcow2 image, in the JSON of qemu-img map --output=json.")
  static final class MapCmd implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON (the default and only output).")
    boolean json;

    @Parameters(paramLabel = "FILE") Path file;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      List<Map<String, Object>> out = new ArrayList<>();
      try (Qcow2Image q = Qcow2Image.open(file)) {
        for (Qcow2Image.MapEntry e : q.mapEntries()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("start", e.start());
          m.put("length", e.length());
          m.put("depth", e.depth());
          m.put("present", e.present());
          m.put("zero", e.zero());
          m.put("data", e.data());
          if (e.offset().isPresent()) {
            m.put("offset", e.offset().getAsLong());
          }
          out.add(m);
        }
      }
      Json.print(spec.commandLine().getOut(), out);
      return ExitCodes.OK;
    }
  }

  @Command(name = "bitmap", mixinStandardHelpOptions = true,
      description = "A bitmap's dirty map, in the JSON of nbdinfo --json --map=qemu:dirty-bitmap:NAME.")
  static final class BitmapCmd implements Callable<Integer> {
    @Option(names = "--json", description = "Print JSON (the default and only output).")
    boolean json;

    @Parameters(index = "0", paramLabel = "FILE") Path file;
    @Parameters(index = "1", paramLabel = "NAME") String name;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      List<Map<String, Object>> out = new ArrayList<>();
      try (Qcow2Image q = Qcow2Image.open(file)) {
        Qcow2Bitmap b = q.bitmapNamed(name).orElseThrow(
            () -> new org.tidemark.qcow2.Qcow2Exception(file, "no bitmap named '" + name + "' (bitmaps: "
                + q.bitmaps().stream().map(Qcow2Bitmap::name).toList() + ")"));
        if (b.inUse()) {
          throw new org.tidemark.qcow2.Qcow2Exception(file, "bitmap '" + name + "' is in use (inconsistent): refused, as qemu-nbd refuses it");
        }
        long pos = 0;
        for (org.tidemark.disk.Extent e : q.dirtyExtents(b)) {
          if (e.offset() > pos) {
            out.add(run(pos, e.offset() - pos, false));
          }
          out.add(run(e.offset(), e.length(), true));
          pos = e.end();
        }
        if (pos < q.virtualSize()) {
          out.add(run(pos, q.virtualSize() - pos, false));
        }
      }
      Json.print(spec.commandLine().getOut(), out);
      return ExitCodes.OK;
    }

    private static Map<String, Object> run(long offset, long length, boolean dirty) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("offset", offset);
      m.put("length", length);
      m.put("type", dirty ? 1 : 0);
      m.put("description", dirty ? "dirty" : "clean");
      return m;
    }
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
