package org.tidemark.restore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tidemark.disk.DiskImageWriter;
import org.tidemark.store.Publish;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default {@link RestoreTarget}: {@code DISK.raw} or {@code DISK.qcow2} and {@code DOMAIN.xml}
 * in one folder, each written complete under a temporary name beside its target and all named
 * together by {@link #publish()}; existing files are refused before anything is written unless
 * overwriting.
 */
final class FolderTarget implements RestoreTarget {
  private static final Logger LOG = LoggerFactory.getLogger(FolderTarget.class);

  private final Path directory;
  private final boolean overwrite;
  private final boolean directIo;
  /** Target -> complete file under a temporary name. */
  private final Map<Path, Path> staged = new LinkedHashMap<>();

  /** The folder the images and the definition are written to. */
  Path directory() {
    return directory;
  }

  FolderTarget(Path directory, boolean overwrite, boolean directIo) {
    this.directory = directory;
    this.overwrite = overwrite;
    this.directIo = directIo;
  }

  /** The same folder and overwrite flag, written through the page cache. */
  FolderTarget withoutDirectIo() {
    return new FolderTarget(directory, overwrite, false);
  }

  @Override
  public Path location(String disk, ImageFormat format) {
    return format.imagePath(directory.toAbsolutePath().normalize(), disk);
  }

  @Override
  public Optional<Path> definition(String name) {
    return Optional.of(RestoreRunner.domainXmlPath(directory, name));
  }

  /**
   * Refuses existing outputs (unless overwriting), creates the folder and removes the temporary
   * files a killed restore left there ({@code .NAME.tmp-RANDOM}).
   */
  @Override
  public void prepare(List<String> disks, ImageFormat format, Optional<String> definition) throws IOException {
    List<Path> outputs = new ArrayList<>();
    disks.forEach(d -> outputs.add(format.imagePath(directory, d)));
    definition.ifPresent(n -> outputs.add(RestoreRunner.domainXmlPath(directory, n)));
    if (!overwrite) {
      for (Path p : outputs) {
        if (Files.exists(p)) {
          throw new FileAlreadyExistsException(p.toString(), null, "exists");
        }
      }
    }
    Files.createDirectories(directory);
    for (Path p : outputs) {
      for (Path leftover : Publish.leftoversOf(p)) {
        Files.deleteIfExists(leftover);
        LOG.warn("removed {}, left by a restore that did not finish", leftover);
      }
    }
  }

  @Override
  public DiskOutput open(String disk, long virtualSize, ImageFormat format) throws IOException {
    Path image = format.imagePath(directory, disk);
    DiskImageWriter out = format.create(image, virtualSize, overwrite, directIo);
    return new DiskOutput() {
      @Override
      public void write(long offset, ByteBuffer data) throws IOException {
        out.write(offset, data);
      }

      @Override
      public void complete() throws IOException {
        staged.put(image, out.finish());
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }

  /** Writes the definition under a temporary name beside its target. */
  @Override
  public void writeDefinition(String name, String xml) throws IOException {
    Path target = RestoreRunner.domainXmlPath(directory, name);
    Path temp = Publish.tempFor(target);
    try {
      Files.writeString(temp, xml, StandardCharsets.UTF_8);
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
    } catch (IOException | RuntimeException e) {
      Publish.discard(temp);
      throw e;
    }
    staged.put(target, temp);
  }

  /**
   * Gives every complete output its name, the domain definition last. Without overwrite, a
   * failure (a file that appeared meanwhile) removes the outputs this call already named, so the
   * restore leaves nothing; with overwrite, the files it replaced are gone.
   */
  @Override
  public void publish() throws IOException {
    List<Path> published = new ArrayList<>();
    try {
      for (Map.Entry<Path, Path> e : staged.entrySet()) {
        Publish.publish(e.getValue(), e.getKey(), overwrite);
        published.add(e.getKey());
      }
      staged.clear();
    } catch (IOException | RuntimeException e) {
      if (!overwrite) {
        for (Path p : published) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException suppressed) {
            e.addSuppressed(suppressed);
          }
        }
      }
      throw e;
    }
  }

  /** Removes the complete files not yet named (none once published). */
  @Override
  public void abandon() {
    for (Path temp : staged.values()) {
      try {
        Publish.discard(temp);
      } catch (IOException e) {
        LOG.warn("could not remove {}: {}", temp, e.toString());
      }
    }
    staged.clear();
  }
}
