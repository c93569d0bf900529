package org.tidemark.archive;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tidemark.disk.Extent;
import org.tidemark.disk.ExtentSet;

/**
 * Computes, before anything is read, where every guest byte of a restored disk comes from.
 *
 * <p>The chain is given newest first. Each archive's extents for the disk claim the guest ranges
 * no newer archive claimed (newest wins); the walk stops at the first archive holding the disk in
 * full. A data range is cut at its chunks' boundaries, so a restore can read each needed chunk
 * once, whichever archive it is in. The result tiles {@code [0, virtual size)} exactly, in guest
 * order. A pure function: stateless and thread-safe.
 */
public final class RestorePlanner {
  private RestorePlanner() {}

  /** The plan of one disk: its size and its pieces in guest order. */
  public record DiskPlan(String disk, long virtualSize, List<RestorePiece> pieces) {
    /** Freezes the list. */
    public DiskPlan {
      pieces = List.copyOf(pieces);
    }

    /**
     * The chunks to read, each once, with the pieces each one supplies, in the order the restored
     * image needs them: {@link #reads(int)} with no limit on the chunks held.
     */
    public List<ChunkRead> reads() {
      return reads(Integer.MAX_VALUE);
    }

    /**
     * The chunks to read, with the pieces each read supplies, in the order an image written front
     * to back needs them: by the guest offset of each read's first piece. Each archive is read
     * forwards (its chunks of a disk lie in the file in guest order, and a chunk's pieces lie
     * within its own guest range), except where a chunk is read again.
     *
     * <p>A writer going front to back holds a chunk from its first piece to its last; newer
     * archives' pieces may lie between them, so at one guest offset it may hold one chunk per
     * archive of the chain. At most {@code maxHeld} are held here: when one more would be, the
     * held chunk needed again farthest ahead is let go, and read a second time where its next
     * piece is. Without such a limit each chunk is read once.
     *
     * @param maxHeld the most chunks held at once between their first and last piece, at least 1
     */
    public List<ChunkRead> reads(int maxHeld) {
      if (maxHeld < 1) {
        throw new IllegalArgumentException("maxHeld " + maxHeld);
      }
      Map<ChunkKey, ArrayDeque<RestorePiece>> ahead = new HashMap<>(); // each chunk's pieces not yet reached
      for (RestorePiece p : pieces) {
        if (!p.zero()) {
          ahead.computeIfAbsent(new ChunkKey(p.source(), p.chunk()), k -> new ArrayDeque<>()).add(p);
        }
      }
      List<Map.Entry<ChunkKey, List<RestorePiece>>> reads = new ArrayList<>();
      Map<ChunkKey, List<RestorePiece>> held = new LinkedHashMap<>(); // the reads whose chunk is held
      for (RestorePiece p : pieces) {
        if (p.zero()) {
          continue;
        }
        ChunkKey key = new ChunkKey(p.source(), p.chunk());
        List<RestorePiece> read = held.get(key);
        if (read == null) {
          read = new ArrayList<>();
          reads.add(Map.entry(key, read));
          held.put(key, read);
        }
        read.add(p);
        ArrayDeque<RestorePiece> rest = ahead.get(key);
        rest.poll();
        if (rest.isEmpty()) {
          held.remove(key);
        }
        while (held.size() > maxHeld) {
          ChunkKey farthest = null;
          for (ChunkKey k : held.keySet()) {
            if (farthest == null || ahead.get(k).peek().offset() > ahead.get(farthest).peek().offset()) {
              farthest = k;
            }
          }
          held.remove(farthest);
        }
      }
      return reads.stream().map(e -> new ChunkRead(e.getKey().source(), e.getKey().chunk(), e.getValue())).toList();
    }

    /** The pieces that read as zeros, in guest order. */
    public List<RestorePiece> zeros() {
      return pieces.stream().filter(RestorePiece::zero).toList();
    }

    /** Guest bytes that come from archives (not zeros). */
    public long dataBytes() {
      return pieces.stream().filter(p -> !p.zero()).mapToLong(RestorePiece::length).sum();
    }
  }

  /**
   * One chunk to read and the guest pieces it supplies.
   *
   * @param source index of the archive in the chain, newest first
   * @param chunk the chunk
   * @param pieces the guest ranges taken from it, in guest order
   */
  public record ChunkRead(int source, ChunkRecord chunk, List<RestorePiece> pieces) {
    /** Freezes the list. */
    public ChunkRead {
      pieces = List.copyOf(pieces);
    }
  }

  /** A chunk of one archive of the chain (chunk records are values: equal chunks are the same). */
  private record ChunkKey(int source, ChunkRecord chunk) {}

  /** One archive of the chain as the planner sees it. */
  public record Layer(Path archive, Manifest manifest, List<ChunkRecord> chunks) {}

  /**
   * Plans the restore of {@code disk} from a chain.
   *
   * @param layers the chain, newest first
   * @throws ArchiveCorruptException when the disk has no full copy in the chain or an archive lacks
   *     a chunk its extents need
   */
  public static DiskPlan plan(String disk, List<Layer> layers) throws ArchiveCorruptException {
    List<RestorePiece> pieces = new ArrayList<>();
    List<List<ChunkRecord>> chunksOf = new ArrayList<>();
    for (Layer layer : layers) {
      chunksOf.add(layer.chunks().stream().filter(c -> c.disk().equals(disk))
          .sorted(Comparator.comparingLong(ChunkRecord::offset)).toList());
    }
    long size = cover(disk, layers, (i, e, from, to) -> {
      if (e == null || e.zero()) {
        pieces.add(new RestorePiece(from, to - from, -1, null));
      } else {
        cutAtChunks(layers.get(i).archive(), disk, i, chunksOf.get(i), from, to, pieces);
      }
    });
    pieces.sort(Comparator.comparingLong(RestorePiece::offset));
    return new DiskPlan(disk, size, pieces);
  }

  /**
   * The guest bytes a restore of {@code disk} from {@code layers} (newest first) writes as data,
   * the rest reading as zeros: {@link DiskPlan#dataBytes()} of its {@link #plan}, from the
   * manifests alone (the layers' chunk lists are not looked at, and may be empty). For {@code list}
   * and for a restore's free-space check.
   *
   * @throws ArchiveCorruptException when the disk has no full copy in the chain
   */
  public static long dataBytes(String disk, List<Layer> layers) throws ArchiveCorruptException {
    long[] data = {0};
    cover(disk, layers, (i, e, from, to) -> data[0] += e == null || e.zero() ? 0 : to - from);
    return data[0];
  }

  /** Receives one guest range {@code [from, to)} of a disk and the extent of layer {@code layer} it comes from. */
  private interface Claim {
    /** {@code extent} is null for a range no layer names (it reads as zeros). */
    void accept(int layer, ExtentRecord extent, long from, long to) throws ArchiveCorruptException;
  }

  /**
   * Tiles {@code [0, virtual size)} of {@code disk} from the chain, newest wins, and gives each
   * range to {@code claims}; returns the virtual size (the newest archive's).
   */
  private static long cover(String disk, List<Layer> layers, Claim claims) throws ArchiveCorruptException {
    if (layers.isEmpty()) {
      throw new IllegalArgumentException("empty chain");
    }
    DiskManifest newest = layers.get(0).manifest().disk(disk).orElseThrow(
        () -> new ArchiveCorruptException(layers.get(0).archive(), ArchiveException.Where.ARCHIVE.withDisk(disk),
            "the backup has no disk '" + disk + "'"));
    long size = newest.virtualSize();
    ExtentSet uncovered = ExtentSet.of(0, size);
    boolean full = false;
    for (int i = 0; i < layers.size() && !full && !uncovered.isEmpty(); i++) {
      Layer layer = layers.get(i);
      DiskManifest d = layer.manifest().disk(disk).orElseThrow(
          () -> new ArchiveCorruptException(layer.archive(), ArchiveException.Where.ARCHIVE.withDisk(disk),
              "the chain needs disk '" + disk + "' but this backup lacks it"));
      for (ExtentRecord e : d.extents()) {
        for (Extent part : uncovered.remove(e.offset(), Math.min(e.end(), size))) {
          claims.accept(i, e, part.offset(), part.end());
        }
      }
      full = d.isFull();
    }
    if (!full && !uncovered.isEmpty()) {
      throw new ArchiveCorruptException(layers.get(layers.size() - 1).archive(),
          ArchiveException.Where.ARCHIVE.withDisk(disk), "disk '" + disk + "' has no full backup in the chain");
    }
    // A full backup covers its whole disk; what it does not name (a smaller old size) reads as zeros.
    for (Extent gap : uncovered.extents()) {
      claims.accept(-1, null, gap.offset(), gap.end());
    }
    return size;
  }

  private static void cutAtChunks(
      Path archive, String disk, int source, List<ChunkRecord> chunks, long from, long to, List<RestorePiece> out)
      throws ArchiveCorruptException {
    int i = indexOfChunkAt(chunks, from);
    long pos = from;
    while (pos < to) {
      if (i < 0 || i >= chunks.size() || chunks.get(i).offset() > pos || chunks.get(i).end() <= pos) {
        throw new ArchiveCorruptException(archive, ArchiveException.Where.chunk(disk, pos),
            "disk '" + disk + "': no chunk holds guest offset " + pos);
      }
      ChunkRecord c = chunks.get(i);
      long end = Math.min(to, c.end());
      out.add(new RestorePiece(pos, end - pos, source, c));
      pos = end;
      i++;
    }
  }

  /** Index of the last chunk starting at or before {@code offset}, or -1. */
  private static int indexOfChunkAt(List<ChunkRecord> chunks, long offset) {
    int lo = 0;
    int hi = chunks.size() - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (chunks.get(mid).offset() <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
