package org.tidemark.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Future;
import org.tidemark.archive.ArchiveConsistency;
import org.tidemark.archive.ArchiveInconsistentException;
import org.tidemark.archive.ArchiveReader;
import org.tidemark.archive.RestorePiece;
import org.tidemark.archive.RestorePlanner;
import org.tidemark.archive.StoredBackup;
import org.tidemark.engine.Cancellation;
import org.tidemark.engine.EngineOptions;
import org.tidemark.engine.Progress;
import org.tidemark.internal.DirectWrites;
import org.tidemark.internal.Workers;

/**
 * Reads what a {@link RestorePlanner.DiskPlan} names from the archives of its chain and hands the
 * disk's data pieces, checked and decompressed, to a {@link Sink} in guest order: the reading half
 * of a restore, shared by {@link RestoreRunner} (the sink is a disk image) and consolidation (the
 * sink cuts the bytes into the chunks of a new full archive). Zero pieces are not handed on: the
 * sink knows them from the plan.
 *
 * <p>The reads are the plan's ({@link RestorePlanner.DiskPlan#reads(int)}), holding at most
 * {@value #HELD_BYTES} bytes of chunks between a chunk's first and last piece. One run at a time;
 * a new object per disk.
 */
public final class PlanCopy {
  /** Chunks read and decoded ahead of the sink. */
  static final int IN_FLIGHT = 8;
  /**
   * Bytes of chunk buffers held at most between a chunk's first and last piece ({@link
   * RestorePlanner.DiskPlan#reads(int)}): 16 chunks of 4 MiB, 4 of 16 MiB, at least one chunk.
   */
  static final int HELD_BYTES = 64 << 20;

  /** Where the guest bytes go, front to back. */
  @FunctionalInterface
  public interface Sink {
    /**
     * Takes the remaining bytes of {@code data}, the guest bytes at {@code offset}; each call starts
     * at or after where the one before ended. The buffer is reused once this returns.
     */
    void write(long offset, ByteBuffer data) throws IOException;
  }

  private final RestorePlanner.DiskPlan plan;
  private final int largest;
  private final List<RestorePlanner.ChunkRead> reads;

  /** Plans the reads of {@code plan}. */
  public PlanCopy(RestorePlanner.DiskPlan plan) {
    this.plan = plan;
    this.largest = plan.pieces().stream().filter(p -> !p.zero()).mapToInt(p -> p.chunk().rawLength()).max().orElse(1);
    this.reads = plan.reads(Math.max(1, HELD_BYTES / largest));
  }

  /**
   * Opens every archive of {@code chain} (newest first) into {@code opened}, which the caller
   * closes whatever happens, checks each against the rules {@code verify} applies ({@link
   * ArchiveConsistency}), and returns them as the planner's layers: what a restore or a
   * consolidation reads, all checked before anything is written.
   *
   * @throws org.tidemark.archive.ArchiveInconsistentException at the first archive that breaks a rule
   */
  public static List<RestorePlanner.Layer> openChain(List<StoredBackup> chain, List<ArchiveReader> opened)
      throws IOException {
    List<RestorePlanner.Layer> layers = new ArrayList<>();
    for (StoredBackup b : chain) {
      ArchiveReader r = ArchiveReader.open(b.path());
      opened.add(r);
      ArchiveInconsistentException.throwIfAny(ArchiveConsistency.check(r));
      layers.add(new RestorePlanner.Layer(b.path(), r.manifest(), r.chunks()));
    }
    return layers;
  }

  /** The chunk reads, in the order the disk needs them. */
  public List<RestorePlanner.ChunkRead> reads() {
    return reads;
  }

  /** How many distinct chunks are read (a chunk read twice counts once). */
  public long chunks() {
    return reads.stream().map(r -> List.of(r.source(), r.chunk().dataOffset())).distinct().count();
  }

  /**
   * Reads, checks and decompresses every chunk on the {@link Workers} into buffers of the largest
   * chunk's raw length, and hands the pieces to {@code sink} from the calling thread, front to back.
   * One writer: parallel writes into one file only contend for its inode lock, burning a core while
   * the other copies. Front to back: the pieces of the chain go out in guest order, so that those
   * adjacent in the guest leave as one write ({@link GatheringWriter}) instead of one small write
   * each.
   *
   * <p>Chunks are read in the order the disk first needs them ({@link
   * RestorePlanner.DiskPlan#reads()}), up to {@value #IN_FLIGHT} ahead of the sink, each into a
   * direct buffer aligned for direct I/O (bytes go from the archive through the decompressor to the
   * sink without a copy through the Java heap). A buffer is reused once every piece of its read is
   * written. Memory stays bounded: besides the chunks read ahead, the sink's side holds those whose
   * guest range spans its position (one per archive of the chain at most), and no more than {@value
   * #HELD_BYTES} bytes of them: past that, the plan reads a chunk again instead of holding it. With
   * the chunk being written and the one a gathered write may still point into, a copy has at most
   * 26 buffers of 4 MiB chunks (104 MiB) or 14 of 16 MiB ones, however long the chain. The first
   * failure stops the rest.
   *
   * <p>{@code cancellation} is checked before each piece; the chunks are decoded on the pool {@code
   * options} give (the engine's workers or the caller's executor).
   *
   * @param readers the chain's archives, newest first, as the plan's sources number them
   * @param operation names the work in the {@link org.tidemark.engine.CancelledException}
   * @throws org.tidemark.engine.CancelledException when cancelled
   */
  public void run(List<ArchiveReader> readers, Sink sink, Progress progress, EngineOptions options,
      Cancellation cancellation, String operation) throws IOException {
    List<Slot> slots = new ArrayList<>();
    for (int i = 0; i < reads.size(); i++) {
      for (RestorePiece piece : reads.get(i).pieces()) {
        slots.add(new Slot(piece, i));
      }
    }
    slots.sort(Comparator.comparingLong(s -> s.piece().offset()));
    Decoding[] decodings = new Decoding[reads.size()];
    ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
    GatheringWriter writer = new GatheringWriter(sink);
    Workers.Pool pool = Workers.pool("tidemark-restore", Workers.count(options.workers(), reads.size()),
        options.executor());
    try {
      int submitted = 0;
      int frontier = 0; // the newest read the writer has reached (reads are in order of first need)
      for (Slot slot : slots) {
        cancellation.check(operation);
        frontier = Math.max(frontier, slot.read());
        for (; submitted < reads.size() && submitted <= frontier + IN_FLIGHT; submitted++) {
          RestorePlanner.ChunkRead read = reads.get(submitted);
          ByteBuffer buffer = free.isEmpty() ? DirectWrites.allocate(largest) : free.poll();
          decodings[submitted] = new Decoding(buffer, read.pieces().size(), pool.submit(() -> {
            readers.get(read.source()).readChunk(read.chunk(), buffer.clear());
            return null;
          }));
        }
        Decoding d = decodings[slot.read()];
        Workers.await(d.done(), "restore", "restoring a chunk failed");
        RestorePiece piece = slot.piece();
        int from = (int) (piece.offset() - reads.get(slot.read()).chunk().offset());
        writer.write(piece.offset(), d.buffer().duplicate().limit(from + (int) piece.length()).position(from), () -> {
          if (d.pieceWritten()) {
            free.add(d.buffer());
          }
        });
        progress.advance(piece.length());
      }
      writer.flush();
    } finally {
      pool.close();
    }
  }

  /** The disk this copies. */
  public RestorePlanner.DiskPlan plan() {
    return plan;
  }

  /** A guest piece of the disk and the index of the read that supplies it. */
  private record Slot(RestorePiece piece, int read) {}

  /** A chunk being read and decoded into {@code buffer}, and how many of its pieces are not written. */
  private static final class Decoding {
    private final ByteBuffer buffer;
    private final Future<?> done;
    private int unwritten;

    Decoding(ByteBuffer buffer, int pieces, Future<?> done) {
      this.buffer = buffer;
      this.unwritten = pieces;
      this.done = done;
    }

    ByteBuffer buffer() {
      return buffer;
    }

    Future<?> done() {
      return done;
    }

    /** Counts one piece written; true when it was the last (the buffer is free again). */
    boolean pieceWritten() {
      return --unwritten == 0;
    }
  }
}
