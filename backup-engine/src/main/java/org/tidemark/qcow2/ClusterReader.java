package org.tidemark.qcow2;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.tidemark.disk.DiskSource;

/**
 * Guest reads of one layer: data units from the image file (or the external data file), coalesced
 * where they continue in the file; compressed clusters inflated (deflate or zstd); zero units;
 * unallocated units from the backing file, zeros past its end. Thread-safe: reads are positional.
 */
final class ClusterReader {
  private final ImageFile file;
  private final Path path;
  private final ClusterMap clusters;
  private final int clusterBits;
  private final int clusterSize;
  private final int unitBits;
  private final boolean extendedL2;
  private final long size;
  /** 0 zlib, 1 zstd. */
  private final int compressionType;
  /** The external data file's channel; null without one (data clusters are in the image file). */
  private final FileChannel data;
  private final DiskSource backing;

  ClusterReader(ImageFile file, ClusterMap clusters, Qcow2Header header, FileChannel data, DiskSource backing) {
    this.file = file;
    this.path = file.path();
    this.clusters = clusters;
    this.clusterBits = header.clusterBits;
    this.clusterSize = header.clusterSize;
    this.unitBits = header.unitBits;
    this.extendedL2 = header.extendedL2;
    this.size = header.size;
    this.compressionType = header.compressionType;
    this.data = data;
    this.backing = backing;
  }

  /** Fills {@code dst} with the guest bytes from {@code offset}. */
  void readFully(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0 || offset + dst.remaining() > size) {
      throw new IOException(path + ": read of " + dst.remaining() + " bytes at " + offset + " is outside the virtual size " + size);
    }
    int unitSize = 1 << unitBits;
    while (dst.hasRemaining()) {
      long unit = offset >>> unitBits;
      int inUnit = (int) (offset & (unitSize - 1));
      int n = Math.min(dst.remaining(), unitSize - inUnit);
      ByteBuffer part = dst.slice(dst.position(), n);
      int kind = clusters.kind(unit);
      if (kind == ClusterMap.COMPRESSED) {
        long cluster = offset >>> clusterBits;
        byte[] plain = decompress(cluster, clusters.l2Entry(cluster));
        part.put(plain, (int) (offset & (clusterSize - 1)), n);
      } else if (kind == ClusterMap.DATA) {
        long host = clusters.hostOffset(unit);
        String where = "data cluster of guest offset " + (offset >>> clusterBits << clusterBits) + " at 0x" + Long.toHexString(host);
        checkData(host, unitSize, where);
        // coalesce the following units that continue in the file into one read
        long next = unit + 1;
        while (n < dst.remaining() && (next << unitBits) < size && clusters.kind(next) == ClusterMap.DATA
            && clusters.hostOffset(next) == host + ((next - unit) << unitBits)) {
          checkData(clusters.hostOffset(next), unitSize, where);
          n += Math.min(unitSize, dst.remaining() - n);
          next++;
        }
        part = dst.slice(dst.position(), n);
        readData(host + inUnit, part, where);
      } else if (kind == ClusterMap.UNALLOCATED && backing != null) {
        long within = Math.max(0, Math.min(n, backing.virtualSize() - offset));
        if (within > 0) {
          backing.readFully(offset, part.slice(0, (int) within));
        }
        zero(part, (int) within, n);
      } else {
        zero(part, 0, n);
      }
      dst.position(dst.position() + n);
      offset += n;
    }
  }

  /** Raw-deflate decoders, one per reading thread (freed with the thread, by the Inflater's cleaner). */
  private static final ThreadLocal<Inflater> INFLATER = ThreadLocal.withInitial(() -> new Inflater(true));

  /** Zeros bytes [from, to) of {@code b} (absolute indexes). */
  private static void zero(ByteBuffer b, int from, int to) {
    if (b.hasArray()) {
      java.util.Arrays.fill(b.array(), b.arrayOffset() + from, b.arrayOffset() + to, (byte) 0);
    } else {
      for (int k = from; k < to; k += ZEROS.length) {
        b.put(k, ZEROS, 0, Math.min(ZEROS.length, to - k));
      }
    }
  }

  private static final byte[] ZEROS = new byte[64 << 10];

  private byte[] decompress(long cluster, long entry) throws IOException {
    if (data != null) {
      throw new CorruptImageException(path, "L2 entry of guest offset " + (cluster << clusterBits)
          + ": a compressed cluster in an image with an external data file (QEMU never writes one)");
    }
    int x = 62 - (clusterBits - 8);
    long host = entry & ((1L << x) - 1);
    long sectors = ((entry & ((1L << 62) - 1)) >>> x) + 1;
    long length = sectors * 512 - (host & 511);
    String where = "compressed cluster of guest offset " + (cluster << clusterBits) + " at 0x" + Long.toHexString(host);
    if (length <= 0 || length > 2L * clusterSize + 512) {
      throw new CorruptImageException(path, where + ": compressed length " + length + " (expected at most " + (2 * clusterSize) + ")");
    }
    long available = Math.min(length, file.size() - host);
    file.checkRange(host, Math.max(1, available), where, 0);
    ByteBuffer in = file.read(host, (int) available, where);
    byte[] out = new byte[clusterSize];
    try {
      if (compressionType == 0) {
        Inflater inf = INFLATER.get(); // one per thread, reset per cluster: creating one costs a zlib init
        inf.reset();
        try {
          inf.setInput(in.array(), 0, in.limit());
          int n = 0;
          while (n < clusterSize) {
            int k = inf.inflate(out, n, clusterSize - n);
            if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) {
              break;
            }
            n += k;
          }
          if (n != clusterSize) {
            throw new CorruptImageException(path, where + ": deflate data gives " + n + " bytes (expected " + clusterSize + ")");
          }
        } finally {
          inf.reset();
        }
      } else {
        // one frame, followed by whatever the rest of its last sector holds; a context per call
        // (a ZstdInputStream per cluster cost 1.7 ms, 30x the decompression itself at 512 B clusters)
        long frame = Zstd.findFrameCompressedSize(in.array(), 0, in.limit());
        if (Zstd.isError(frame)) {
          throw new CorruptImageException(path, where + ": zstd data is corrupt: " + Zstd.getErrorName(frame));
        }
        long n = Zstd.decompressByteArray(out, 0, clusterSize, in.array(), 0, (int) frame);
        if (Zstd.isError(n)) {
          throw new CorruptImageException(path, where + ": zstd data is corrupt: " + Zstd.getErrorName(n));
        }
        if (n != clusterSize) {
          throw new CorruptImageException(path, where + ": zstd data gives " + n + " bytes (expected " + clusterSize + ")");
        }
      }
    } catch (DataFormatException e) {
      throw new CorruptImageException(path, where + ": deflate data is corrupt: " + e.getMessage(), e);
    } catch (com.github.luben.zstd.ZstdException e) {
      throw new CorruptImageException(path, where + ": zstd data is corrupt: " + e.getMessage(), e);
    }
    return out;
  }

  /**
   * Checks a data run: inside the image file (and cluster-aligned without extended L2), or, with an
   * external data file, at a sane offset (like QEMU, reads past the data file's end give zeros).
   */
  private void checkData(long host, long length, String where) throws CorruptImageException {
    if (data == null) {
      file.checkRange(host, length, where, extendedL2 ? 0 : clusterSize);
    } else if (host < 0 || host > (1L << 56)) {
      throw new CorruptImageException(path, where + ": data file offset 0x" + Long.toHexString(host) + " is out of range");
    }
  }

  /** Reads data clusters' bytes from the image file or the external data file. */
  private void readData(long offset, ByteBuffer dst, String what) throws IOException {
    if (data == null) {
      file.readInto(offset, dst, what);
      return;
    }
    long pos = offset;
    while (dst.hasRemaining()) {
      int n = data.read(dst, pos);
      if (n < 0) { // past the end of the data file: zeros, as QEMU reads them
        while (dst.hasRemaining()) {
          dst.put((byte) 0);
        }
        return;
      }
      pos += n;
    }
  }

}
