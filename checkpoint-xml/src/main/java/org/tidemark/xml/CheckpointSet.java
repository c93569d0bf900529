package org.tidemark.xml;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.model.Checkpoint;

/**
 * The checkpoints of one domain, checked as a whole as libvirt keeps them (one XML file each in
 * {@code /var/lib/libvirt/qemu/checkpoint/DOMAIN/}): every name defined once, every checkpoint of
 * the same domain (where its file has a {@code <domain>}; libvirt's NO_DOMAIN form has none), every
 * parent defined in the set (libvirt refuses to redefine a checkpoint whose parent it does not
 * know; a checkpoint without a parent is a root of the tree), and no checkpoint its own ancestor.
 *
 * <p>{@link #read} reads a folder of such files; {@link #builder} checks checkpoints the caller
 * parsed itself (a program that also validates the same bytes otherwise, as Tidemark's command line
 * does against libvirt's grammar). Every refusal is a {@link CheckpointXmlException} naming the file
 * it is about. Immutable.
 */
public final class CheckpointSet {
  private final Map<String, Checkpoint> byName;
  private final Map<String, String> resources;

  private CheckpointSet(Map<String, Checkpoint> byName, Map<String, String> resources) {
    this.byName = Collections.unmodifiableMap(byName);
    this.resources = Collections.unmodifiableMap(resources);
  }

  /**
   * Reads, parses (REDEFINE mode, a missing {@code <domain>} allowed) and checks every file named
   * {@code *.xml} in {@code folder}, in the order of their names.
   *
   * @param domainGrammar the grammar of each file's {@code <domain>}
   * @throws FileSystemException when a file is not a regular file (a folder, a device, a FIFO: never
   *     opened), or the folder cannot be listed
   * @throws CheckpointXmlException when a file is larger than {@link CheckpointXml#MAX_BYTES}, is
   *     refused by the parser (with its line and column), or breaks a rule of the set
   */
  public static CheckpointSet read(Path folder, DomainGrammar domainGrammar) throws IOException, CheckpointXmlException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> listing = Files.newDirectoryStream(folder, "*.xml")) {
      listing.forEach(files::add);
    }
    Collections.sort(files);
    Builder b = builder();
    for (Path f : files) {
      String resource = f.toString();
      b.add(resource, CheckpointXml.parse(readFile(f), resource, EnumSet.of(CheckpointXml.ParseOption.ALLOW_MISSING_DOMAIN),
          domainGrammar));
    }
    return b.build();
  }

  private static byte[] readFile(Path f) throws IOException, CheckpointXmlException {
    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class); // links followed
    if (!a.isRegularFile()) {
      throw new FileSystemException(f.toString(), null, "not a regular file ("
          + (a.isDirectory() ? "a directory" : "a device, FIFO or socket") + ")");
    }
    if (a.size() > CheckpointXml.MAX_BYTES) {
      throw new CheckpointXmlException(f.toString(), 0, 0,
          "file of " + a.size() + " bytes is larger than the limit of " + CheckpointXml.MAX_BYTES);
    }
    try (InputStream in = Files.newInputStream(f)) {
      return in.readNBytes(CheckpointXml.MAX_BYTES + 1); // a file that grew is refused by the parser's limit
    }
  }

  /** An empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The checkpoints by name, in the order they were added. */
  public Map<String, Checkpoint> checkpoints() {
    return byName;
  }

  /** The file (resource) the checkpoint {@code name} was read from, if the set has it. */
  public Optional<String> resource(String name) {
    return Optional.ofNullable(resources.get(name));
  }

  /** The name of the domain of the checkpoints that have a {@code <domain>}; empty when none has. */
  public Optional<String> domainName() {
    return byName.values().stream().flatMap(c -> c.domain().stream()).map(d -> d.name()).findFirst();
  }

  /** Collects checkpoints and checks them; not thread-safe. */
  public static final class Builder {
    private final Map<String, Checkpoint> byName = new LinkedHashMap<>();
    private final Map<String, String> resources = new LinkedHashMap<>();
    private String domain;
    private String domainResource;

    private Builder() {}

    /**
     * Adds the checkpoint read from {@code resource}.
     *
     * @throws CheckpointXmlException naming {@code resource} when the set has a checkpoint of that
     *     name already, or checkpoints of another domain
     */
    public Builder add(String resource, Checkpoint c) throws CheckpointXmlException {
      String earlier = resources.get(c.name());
      if (earlier != null) {
        throw new CheckpointXmlException(resource, 0, 0,
            "checkpoint '" + c.name() + "' is defined twice: also in " + earlier);
      }
      Optional<String> d = c.domain().map(x -> x.name());
      if (d.isPresent()) {
        if (domain == null) {
          domain = d.get();
          domainResource = resource;
        } else if (!domain.equals(d.get())) {
          throw new CheckpointXmlException(resource, 0, 0, "checkpoint '" + c.name() + "' is of domain '" + d.get()
              + "', not of domain '" + domain + "' as " + domainResource + " is: a set holds the checkpoints of one domain");
        }
      }
      byName.put(c.name(), c);
      resources.put(c.name(), resource);
      return this;
    }

    /**
     * Checks the parents and returns the set.
     *
     * @throws CheckpointXmlException naming the file of a checkpoint whose parent is not in the set,
     *     or of a checkpoint that is its own ancestor
     */
    public CheckpointSet build() throws CheckpointXmlException {
      for (Checkpoint c : byName.values()) {
        Optional<String> p = c.parentName();
        if (p.isPresent() && !byName.containsKey(p.get())) {
          throw new CheckpointXmlException(resources.get(c.name()), 0, 0, "the parent '" + p.get() + "' of checkpoint '"
              + c.name() + "' is not in the set (" + byName.size() + " checkpoint" + (byName.size() == 1 ? "" : "s") + ")");
        }
      }
      Set<String> rooted = new HashSet<>(); // reach a root: each chain is walked once
      for (Checkpoint c : byName.values()) {
        List<String> path = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Optional<String> n = Optional.of(c.name());
        for (; n.isPresent() && !rooted.contains(n.get()); n = byName.get(n.get()).parentName()) {
          if (!seen.add(n.get())) {
            throw new CheckpointXmlException(resources.get(c.name()), 0, 0, "checkpoint '" + c.name()
                + "' is its own ancestor: " + String.join(" -> ", path) + " -> " + n.get());
          }
          path.add(n.get());
        }
        rooted.addAll(path);
      }
      return new CheckpointSet(new LinkedHashMap<>(byName), new LinkedHashMap<>(resources));
    }
  }
}
