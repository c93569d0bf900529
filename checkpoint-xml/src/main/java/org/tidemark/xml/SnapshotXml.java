package org.tidemark.xml;

import com.thaiopensource.validate.Schema;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tidemark.model.DomainDefinition;
import org.tidemark.model.DomainDisk;
import org.tidemark.model.Snapshot;
import org.tidemark.model.SnapshotDisk;
import org.tidemark.model.SnapshotMemory;

/**
 * Reads and writes libvirt snapshot XML ({@code <domainsnapshot>}) as libvirt does, sharing the
 * moment parts (name, description, parent, creation time, domain) with {@link CheckpointXml}.
 *
 * <p><b>Validation is opt-in</b>, as in libvirt (where {@code virsh snapshot-create} validates only
 * with {@code --validate}) and unlike checkpoints: without {@link ParseOption#VALIDATE} the document
 * is read without a grammar, still with the safety of every Tidemark parse (at most {@value
 * #MAX_BYTES} bytes and {@value #MAX_DEPTH} levels, DTD declarations, entities and external
 * resources refused, only a bare {@code <!DOCTYPE domainsnapshot>} accepted). With {@code VALIDATE}
 * it is validated with Jing against Tidemark's {@code domainsnapshot.rng}, which accepts what
 * libvirt's grammar accepts, and the embedded {@code <domain>} and {@code <inactiveDomain>} against
 * libvirt's own {@code domain.rng} and {@code inactiveDomain.rng} when {@link DomainGrammar} finds
 * them, in the same single pass.
 *
 * <p><b>Parsing</b> is libvirt's REDEFINE mode ({@code virsh snapshot-create --redefine}): a name,
 * a creation time (a C {@code long long}: a sign and leading blanks allowed, {@code 0} meaning
 * unset) and a state are required; the memory record defaults to {@code no} for offline states
 * ({@code shutoff}, {@code disk-snapshot}) and {@code internal} otherwise; each disk defaults to
 * {@code external} when it names a file or a format; the disks are aligned with the domain as
 * libvirt aligns them (renamed to their targets, unlisted disks added, the snapshot mode of each
 * checked, and names generated for external snapshots without a file, next to the disk's source,
 * which must then be a regular file on this host). A {@code <domain>} with a {@code type} is kept
 * (its text, as read); the old form {@code <domain><uuid>..</uuid></domain>} and a missing domain
 * are refused unless {@link ParseOption#ALLOW_MISSING_DOMAIN}, as libvirt refuses them unless the
 * snapshot being redefined already exists with a domain. {@code <cookie>} and {@code <active>} are
 * accepted and not kept (libvirt's test driver keeps no cookie; {@code <active>} is libvirt's
 * private state). What libvirt checks against the running domain (its uuid, the existing snapshot
 * being redefined, parent cycles) is the caller's business ({@code MomentTree}).
 *
 * <p>Not supported, refused with a message saying so: disk snapshots on network, NVMe or vhost
 * sources, and anything in a disk's {@code <source>} or {@code <driver>} other than the path and
 * the format (seclabels, slices, encryption, metadata cache).
 *
 * <p><b>Formatting</b> writes what {@code virsh snapshot-dumpxml} writes, byte for byte: child
 * order name, description, state, parent, creationTime, memory, disks, domain, inactiveDomain;
 * two-space indent, single-quoted attributes, the five XML entities escaped, no XML declaration;
 * domains given back as read, indented one level, their graphics passwords left out unless
 * {@link FormatFlag#SECURE}.
 *
 * <p>Thread-safe: the grammar is compiled once and shared, each thread reuses its own validator.
 */
public final class SnapshotXml {
  /** The largest document read, in bytes. */
  public static final int MAX_BYTES = SafeXml.MAX_BYTES;
  /** The deepest element nesting accepted. */
  public static final int MAX_DEPTH = SafeXml.MAX_DEPTH;

  /** libvirt's snapshot states, in its order (without {@code nostate}, which a definition may not use). */
  static final List<String> STATES =
      List.of("running", "blocked", "paused", "shutdown", "shutoff", "crashed", "pmsuspended", "disk-snapshot");
  /** libvirt's snapshot locations ({@code default} is the attribute's absence). */
  static final List<String> LOCATIONS = List.of("no", "internal", "external", "manual");
  /**
   * The disk formats libvirt 9.0 knows ({@code virStorageFileFormat}, without {@code none}; later
   * releases add {@code luks}).
   */
  static final List<String> FORMATS = List.of("raw", "dir", "bochs", "cloop", "dmg", "iso", "vpc", "vdi", "fat",
      "vhd", "ploop", "cow", "qcow", "qcow2", "qed", "vmdk");
  private static final String NO = "no";
  private static final String INTERNAL = "internal";
  private static final String EXTERNAL = "external";

  /** Options of {@link #parse}. */
  public enum ParseOption {
    /**
     * Validate the document against Tidemark's snapshot grammar (and the domains against libvirt's
     * grammars when installed) before interpreting it; libvirt's {@code --validate}.
     */
    VALIDATE,
    /**
     * Accept a redefinition without a domain (or with only the old {@code <domain><uuid>} form),
     * which libvirt accepts when the snapshot redefined exists and keeps its domain. The disks are
     * then kept as listed, with their own defaults: nothing to align them with.
     */
    ALLOW_MISSING_DOMAIN
  }

  /** Flags of {@link #format}, with libvirt's meaning. */
  public enum FormatFlag {
    /** Include the domains' security-sensitive parts (graphics passwords); {@code --security-info}. */
    SECURE
  }

  private SnapshotXml() {}

  /**
   * Parses a snapshot document in REDEFINE mode, validating it when {@code options} has {@link
   * ParseOption#VALIDATE}, with the host's {@link DomainGrammar}.
   *
   * @param xml the document's bytes (UTF-8)
   * @param resource the document's name for messages (a path, or {@code -})
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static Snapshot parse(byte[] xml, String resource, Set<ParseOption> options) throws CheckpointXmlException {
    return parse(xml, resource, options, DomainGrammar.host());
  }

  /**
   * Parses a snapshot document in REDEFINE mode; with {@link ParseOption#VALIDATE} its domains are
   * validated against {@code domainGrammar}.
   *
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static Snapshot parse(byte[] xml, String resource, Set<ParseOption> options, DomainGrammar domainGrammar)
      throws CheckpointXmlException {
    String text = SafeXml.read(xml, resource);
    XmlElement root = options.contains(ParseOption.VALIDATE)
        ? validatedRoot(text, resource, domainGrammar)
        : SafeXml.parseUnvalidated(text, resource);
    if (!root.getLocalName().equals("domainsnapshot")) {
      throw MomentXml.error(root, resource, "expected a <domainsnapshot> document, found <" + root.getLocalName() + ">");
    }
    return interpret(root, text, resource, options);
  }

  /**
   * Validates a snapshot document only (no interpretation): what {@link ParseOption#VALIDATE} adds
   * to a parse. Package-private, for the tests that compare it with libvirt's grammar.
   */
  static void validate(byte[] xml, String resource, DomainGrammar domainGrammar) throws CheckpointXmlException {
    validatedRoot(SafeXml.read(xml, resource), resource, domainGrammar);
  }

  private static XmlElement validatedRoot(String text, String resource, DomainGrammar domainGrammar)
      throws CheckpointXmlException {
    Map<String, MomentSchema.Checker> subtrees = new HashMap<>();
    Schema domain = domainGrammar.schema();
    if (domain != null) {
      subtrees.put("domain", MomentSchema.checker(domain));
    }
    if (text.contains("<inactiveDomain")) { // libvirt's grammar compiled only when needed
      Schema inactive = domainGrammar.inactiveSchema();
      if (inactive != null) {
        subtrees.put("inactiveDomain", MomentSchema.checker(inactive));
      }
    }
    return SafeXml.parseValidated(text, resource, MomentSchema.SNAPSHOT.checker(), subtrees);
  }

  // ------------------------------------------------------------------ interpretation

  private static Snapshot interpret(XmlElement root, String text, String resource, Set<ParseOption> options)
      throws CheckpointXmlException {
    Snapshot.Builder b = Snapshot.builder();
    MomentXml.readMoment(root, b, "snapshot", resource);
    XmlElement created = MomentXml.child(root, "creationTime");
    b.creationTime(creationTime(created == null ? root : created, created == null ? null : created.getTextContent(), resource));
    XmlElement stateElement = MomentXml.child(root, "state");
    String state = stateElement == null ? "" : stateElement.getTextContent();
    if (state.isEmpty()) {
      throw MomentXml.error(root, resource, "a redefined snapshot needs a <state>");
    }
    if (!STATES.contains(state)) {
      throw MomentXml.error(stateElement, resource, "invalid state '" + state + "' (one of " + String.join(", ", STATES) + ")");
    }
    b.state(state);
    boolean offline = state.equals("shutoff") || state.equals("disk-snapshot");

    XmlElement domainElement = MomentXml.child(root, "domain");
    DomainDefinition domain = null;
    if (domainElement != null && !domainElement.getAttribute("type").isEmpty()) {
      requireName(domainElement, resource);
      domain = MomentXml.domainDefinition(domainElement, text, resource);
      b.domain(domain);
    } else if (!options.contains(ParseOption.ALLOW_MISSING_DOMAIN)) {
      throw MomentXml.error(domainElement == null ? root : domainElement, resource,
          "a redefined snapshot needs its <domain> with a type (use the option that allows a missing domain to redefine"
          + " a snapshot that exists with one)");
    }
    XmlElement inactive = MomentXml.child(root, "inactiveDomain");
    if (inactive != null) {
      if (inactive.getAttribute("type").isEmpty()) {
        throw MomentXml.error(inactive, resource, "an <inactiveDomain> needs a type attribute");
      }
      requireName(inactive, resource);
      b.inactiveDomain(MomentXml.domainDefinition(inactive, text, resource));
    }

    SnapshotMemory memory = memory(root, offline, resource);
    b.memory(memory);
    List<Disk> listed = new ArrayList<>();
    for (XmlElement disks : MomentXml.children(root, "disks")) {
      for (XmlElement d : disks.elements()) { // libvirt reads every child of <disks> as a disk
        listed.add(disk(d, resource));
      }
    }
    List<Disk> disks = listed;
    if (domain != null) {
      boolean external = state.equals("disk-snapshot") || memory.snapshot().equals(EXTERNAL)
          || listed.stream().anyMatch(d -> EXTERNAL.equals(d.snapshot));
      disks = align(listed, domain, domainElement, external ? EXTERNAL : INTERNAL, b.name(), root, resource);
    }
    for (Disk d : disks) {
      b.addDisk(d.toModel());
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw MomentXml.error(root, resource, e.getMessage());
    }
  }

  private static void requireName(XmlElement domain, String resource) throws CheckpointXmlException {
    if (MomentXml.childText(domain, "name").filter(n -> !n.isEmpty()).isEmpty()) {
      throw MomentXml.error(domain, resource, "a <" + domain.getLocalName() + "> needs a <name>");
    }
  }

  /** libvirt's {@code virStrToLong_ll}: leading blanks and a sign allowed, nothing after the digits. */
  private static long creationTime(XmlElement at, String s, String resource) throws CheckpointXmlException {
    if (s != null) {
      String t = s.stripLeading();
      int i = t.startsWith("-") || t.startsWith("+") ? 1 : 0;
      boolean digits = t.length() > i;
      for (int j = i; j < t.length(); j++) {
        digits &= t.charAt(j) >= '0' && t.charAt(j) <= '9';
      }
      if (digits) {
        try {
          return Long.parseLong(t.startsWith("+") ? t.substring(1) : t);
        } catch (NumberFormatException e) {
          // out of range: refused below, as libvirt refuses it
        }
      }
    }
    throw MomentXml.error(at, resource, s == null ? "a redefined snapshot needs a <creationTime>"
        : "invalid creationTime '" + s + "' (seconds since the epoch, a 64-bit integer)");
  }

  private static SnapshotMemory memory(XmlElement root, boolean offline, String resource) throws CheckpointXmlException {
    XmlElement m = MomentXml.child(root, "memory");
    Optional<String> file = Optional.empty();
    String location = null;
    XmlElement at = m == null ? root : m;
    if (m != null) {
      file = m.hasAttribute("file") ? Optional.of(m.getAttribute("file")) : Optional.empty();
      if (m.hasAttribute("snapshot")) {
        location = location(m, resource);
        if (location.equals("manual")) {
          throw MomentXml.error(m, resource, "'manual' memory snapshot mode not supported");
        }
      }
    }
    if (location == null) {
      location = file.isPresent() ? EXTERNAL : offline ? NO : INTERNAL;
    }
    if (file.isPresent() && !location.equals(EXTERNAL)) {
      throw MomentXml.error(at, resource, "memory filename '" + file.get() + "' requires external snapshot");
    }
    if (file.isEmpty() && location.equals(EXTERNAL)) {
      throw MomentXml.error(at, resource, "external memory snapshots require a filename");
    }
    if (offline && !location.equals(NO)) {
      throw MomentXml.error(at, resource, "memory state cannot be saved with offline or disk-only snapshot");
    }
    if (file.isPresent() && !file.get().startsWith("/")) {
      throw MomentXml.error(at, resource, "memory snapshot file path (" + file.get() + ") must be absolute");
    }
    return new SnapshotMemory(location, file);
  }

  /** The {@code snapshot} attribute of {@code e}, which is present: one of {@link #LOCATIONS}. */
  private static String location(XmlElement e, String resource) throws CheckpointXmlException {
    String v = e.getAttribute("snapshot");
    if (!LOCATIONS.contains(v)) {
      throw MomentXml.error(e, resource, "invalid value for attribute 'snapshot' in element '" + e.getLocalName()
          + "': '" + v + "' (one of " + String.join(", ", LOCATIONS) + ")");
    }
    return v;
  }

  /** A disk while it is read and aligned: libvirt's {@code virDomainSnapshotDiskDef}. */
  private static final class Disk {
    final XmlElement at;
    String name;
    String snapshot; // null: default
    String type = "file";
    String format;
    String path;

    Disk(XmlElement at, String name) {
      this.at = at;
      this.name = name;
    }

    SnapshotDisk toModel() {
      boolean source = path != null || format != null; // libvirt prints type, driver and source only then
      return new SnapshotDisk(name, Optional.ofNullable(snapshot), source ? Optional.of(type) : Optional.empty(),
          Optional.ofNullable(format), Optional.ofNullable(path));
    }
  }

  private static Disk disk(XmlElement e, String resource) throws CheckpointXmlException {
    if (!e.hasAttribute("name")) {
      throw MomentXml.error(e, resource, "missing name from disk snapshot element");
    }
    Disk d = new Disk(e, e.getAttribute("name"));
    if (e.hasAttribute("snapshot")) {
      d.snapshot = location(e, resource);
    }
    if (e.hasAttribute("type")) {
      d.type = e.getAttribute("type");
      switch (d.type) {
        case "file", "block" -> { }
        case "volume", "dir" -> throw MomentXml.error(e, resource, "unsupported disk snapshot type '" + d.type + "'");
        case "network", "nvme", "vhostuser", "vhostvdpa" -> throw MomentXml.error(e, resource,
            "disk snapshots of type '" + d.type + "' are not supported by Tidemark (only 'file' and 'block')");
        default -> throw MomentXml.error(e, resource, "invalid value for attribute 'type' in element 'disk': '" + d.type + "'");
      }
    }
    XmlElement source = MomentXml.child(e, "source");
    if (source != null) {
      // libvirt reads a source's index only from its private status XML: ignored here as there
      if (!source.elements().isEmpty() || source.hasAttribute("startupPolicy")) {
        throw MomentXml.error(source, resource, "a disk snapshot <source> with " + (source.elements().isEmpty()
            ? "a startupPolicy" : "<" + source.elements().get(0).getLocalName() + ">")
            + " is not supported by Tidemark (it keeps only the path)");
      }
      String path = source.getAttribute(d.type.equals("block") ? "dev" : "file");
      d.path = path.isEmpty() ? null : path;
    }
    XmlElement driver = MomentXml.child(e, "driver");
    if (driver != null) {
      if (!driver.elements().isEmpty()) {
        throw MomentXml.error(driver, resource, "a disk snapshot's <driver> metadata_cache is not supported by Tidemark");
      }
      String format = driver.getAttribute("type");
      if (!format.isEmpty()) {
        if (!FORMATS.contains(format)) {
          throw MomentXml.error(driver, resource, "unknown disk snapshot driver '" + format + "'");
        }
        d.format = format;
      }
    }
    if (d.path != null && !d.path.startsWith("/")) {
      throw MomentXml.error(source, resource, "disk snapshot image path '" + d.path + "' must be absolute");
    }
    if (d.snapshot == null && (d.path != null || d.format != null)) {
      d.snapshot = EXTERNAL;
    }
    return d;
  }

  /**
   * libvirt's {@code virDomainSnapshotAlignDisks} for a redefinition: every listed disk is found
   * in the domain (by target, or by source path) and renamed to its target, unlisted disks are
   * added with the domain's defaults, each disk's snapshot mode defaults to the domain disk's or
   * to {@code defaultLocation}; an internal snapshot must be internal on every disk the domain does
   * not exclude. Then external snapshots without a file get libvirt's generated name.
   */
  private static List<Disk> align(List<Disk> listed, DomainDefinition domain, XmlElement domainElement,
      String defaultLocation, String snapshotName, XmlElement root, String resource) throws CheckpointXmlException {
    List<DomainDisk> domainDisks = domain.disks();
    List<String> domainModes = domainDiskModes(domainElement);
    if (listed.size() > domainDisks.size()) {
      throw MomentXml.error(root, resource, "too many disk snapshot requests for domain");
    }
    boolean requireMatch = defaultLocation.equals(INTERNAL);
    if (domainDisks.isEmpty()) {
      return listed;
    }
    Disk[] byIndex = new Disk[domainDisks.size()];
    for (Disk d : listed) {
      int idx = DiskAlignment.indexOf(domainDisks, d.name);
      if (idx < 0) {
        throw MomentXml.error(d.at, resource, "no disk named '" + d.name + "'");
      }
      if (byIndex[idx] != null) {
        throw MomentXml.error(d.at, resource, "disk '" + d.name + "' specified twice");
      }
      byIndex[idx] = d;
      String domainMode = domainModes.get(idx);
      if (d.snapshot == null) {
        d.snapshot = domainMode != null && (!requireMatch || domainMode.equals(NO)) ? domainMode : defaultLocation;
      } else if (requireMatch && !d.snapshot.equals(defaultLocation) && !(d.snapshot.equals(NO) && NO.equals(domainMode))) {
        throw MomentXml.error(d.at, resource, "disk '" + d.name + "' must use snapshot mode '" + defaultLocation + "'");
      }
      if (d.path != null && !d.snapshot.equals(EXTERNAL)) {
        throw MomentXml.error(d.at, resource, "file '" + d.path + "' for disk '" + d.name + "' requires use of external snapshot mode");
      }
      d.name = domainDisks.get(idx).target();
    }
    List<Disk> out = new ArrayList<>();
    for (int i = 0; i < byIndex.length; i++) {
      if (byIndex[i] != null) {
        out.add(byIndex[i]);
        continue;
      }
      DomainDisk dd = domainDisks.get(i);
      Disk d = new Disk(root, dd.target());
      d.snapshot = dd.empty() ? NO : domainModes.get(i);
      if (d.snapshot == null) {
        d.snapshot = defaultLocation;
      }
      out.add(d);
    }
    assignExternalNames(out, domainDisks, snapshotName, resource);
    return out;
  }

  /** The {@code snapshot} attribute of each domain disk, in {@link DomainDefinition#disks()} order (null: none). */
  private static List<String> domainDiskModes(XmlElement domain) {
    List<String> modes = new ArrayList<>();
    XmlElement devices = MomentXml.child(domain, "devices");
    if (devices != null) {
      for (XmlElement d : MomentXml.children(devices, "disk")) {
        XmlElement target = MomentXml.child(d, "target");
        if (target == null || target.getAttribute("dev").isEmpty()) {
          continue; // as MomentXml.domainDefinition skips it
        }
        String mode = d.getAttribute("snapshot");
        modes.add(LOCATIONS.contains(mode) ? mode : null);
      }
    }
    return modes;
  }

  /** libvirt's {@code virDomainSnapshotDefAssignExternalNames}. */
  private static void assignExternalNames(List<Disk> disks, List<DomainDisk> domainDisks, String snapshotName,
      String resource) throws CheckpointXmlException {
    for (int i = 0; i < disks.size(); i++) {
      Disk d = disks.get(i);
      if (!EXTERNAL.equals(d.snapshot) || d.path != null) {
        continue;
      }
      if (!d.type.equals("file")) {
        throw MomentXml.error(d.at, resource, "cannot generate external snapshot name for disk '" + d.name
            + "' on a '" + d.type + "' device");
      }
      Optional<String> origin = domainDisks.get(i).source();
      if (origin.isEmpty()) {
        throw MomentXml.error(d.at, resource, "cannot generate external snapshot name for disk '" + d.name + "' without source");
      }
      if (!Files.isRegularFile(Path.of(origin.get()))) {
        throw MomentXml.error(d.at, resource, "source for disk '" + d.name
            + "' is not a regular file; refusing to generate external snapshot name");
      }
      String base = origin.get();
      int dot = base.lastIndexOf('.');
      if (dot >= 0 && base.indexOf('/', dot) < 0) {
        base = base.substring(0, dot);
      }
      d.path = base + "." + snapshotName;
      for (int j = 0; j < i; j++) {
        if (d.path.equals(disks.get(j).path)) {
          throw MomentXml.error(d.at, resource, "cannot generate external snapshot name for disk '" + d.name
              + "': collision with disk '" + disks.get(j).name + "'");
        }
      }
    }
  }

  // ------------------------------------------------------------------ formatting

  /** Formats a snapshot exactly as libvirt's {@code virsh snapshot-dumpxml} would. */
  public static String format(Snapshot s, Set<FormatFlag> flags) {
    boolean secure = flags.contains(FormatFlag.SECURE);
    StringBuilder out = new StringBuilder();
    out.append("<domainsnapshot>\n");
    MomentXml.appendNameAndDescription(out, s);
    s.state().ifPresent(st -> out.append("  <state>").append(MomentXml.escape(st)).append("</state>\n"));
    MomentXml.appendParent(out, s);
    MomentXml.appendCreationTime(out, s);
    s.memory().ifPresent(m -> {
      out.append("  <memory snapshot='").append(MomentXml.escape(m.snapshot())).append('\'');
      m.file().ifPresent(f -> out.append(" file='").append(MomentXml.escape(f)).append('\''));
      out.append("/>\n");
    });
    if (!s.disks().isEmpty()) {
      out.append("  <disks>\n");
      for (SnapshotDisk d : s.disks()) {
        out.append("    <disk name='").append(MomentXml.escape(d.name())).append('\'');
        d.snapshot().ifPresent(m -> out.append(" snapshot='").append(MomentXml.escape(m)).append('\''));
        if (d.sourceType().isEmpty()) {
          out.append("/>\n");
          continue;
        }
        out.append(" type='").append(MomentXml.escape(d.sourceType().get())).append("'>\n");
        d.driverType().ifPresent(t -> out.append("      <driver type='").append(MomentXml.escape(t)).append("'/>\n"));
        d.sourceFile().ifPresent(f -> out.append("      <source ").append(d.sourceType().get().equals("block") ? "dev" : "file")
            .append("='").append(MomentXml.escape(f)).append("'/>\n"));
        out.append("    </disk>\n");
      }
      out.append("  </disks>\n");
    }
    s.domain().ifPresent(d -> MomentXml.appendDomain(out, d, secure));
    s.inactiveDomain().ifPresent(d -> MomentXml.appendDomain(out, d, secure));
    out.append("</domainsnapshot>\n");
    return out.toString();
  }

  /** {@link #format} with no flags. */
  public static String format(Snapshot s) {
    return format(s, EnumSet.noneOf(FormatFlag.class));
  }
}
