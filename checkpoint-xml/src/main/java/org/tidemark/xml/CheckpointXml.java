package org.tidemark.xml;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.tidemark.model.Checkpoint;
import org.tidemark.model.CheckpointDisk;
import org.tidemark.model.CheckpointType;
import org.tidemark.model.DomainDefinition;

/**
 * Reads and writes libvirt checkpoint XML ({@code <domaincheckpoint>}) as libvirt does.
 *
 * <p><b>Parsing</b> always validates the document against Tidemark's checkpoint grammar (RELAX NG,
 * with Jing) before interpreting it; nothing turns that off. Documents are limited to {@value
 * #MAX_BYTES} bytes of UTF-8 and {@value #MAX_DEPTH} levels of nesting; DTD declarations, entities and
 * external resources are refused (a bare {@code <!DOCTYPE domaincheckpoint>} is accepted, as
 * libvirt accepts it), so no document makes the parser read a file or expand entities. Parsing
 * is in libvirt's REDEFINE mode: name and creation time are required, and so is {@code <domain>}
 * unless {@link ParseOption#ALLOW_MISSING_DOMAIN} admits the domain-less form libvirt 7.0 and
 * later writes with NO_DOMAIN. A disk without a {@code checkpoint} attribute is tracked by a bitmap;
 * a bitmap disk without a {@code bitmap} attribute uses the checkpoint's name. An empty
 * description is no description.
 *
 * <p><b>Formatting</b> writes libvirt's layout byte for byte: fixed child order, two-space indent,
 * single-quoted attributes, the five XML entities escaped, a newline after every line, no XML
 * declaration, and the embedded {@code <domain>} given back as it was read, indented one level.
 *
 * <p>Thread-safe: the grammar is compiled once and shared, each thread reuses its own validator.
 */
public final class CheckpointXml {
  /** The largest document read, in bytes. */
  public static final int MAX_BYTES = SafeXml.MAX_BYTES;
  /** The deepest element nesting accepted. */
  public static final int MAX_DEPTH = SafeXml.MAX_DEPTH;

  /** Options of {@link #parse}. */
  public enum ParseOption {
    /** Accept a redefinition without {@code <domain>} (what libvirt writes with NO_DOMAIN). */
    ALLOW_MISSING_DOMAIN
  }

  /** Flags of {@link #format}, with libvirt's meaning. */
  public enum FormatFlag {
    /**
     * Include the domain's security-sensitive parts (graphics passwords), which are kept as read
     * but left out of the output without this flag, as libvirt does.
     */
    SECURE,
    /** Leave out the {@code <domain>}. */
    NO_DOMAIN,
    /**
     * Write each disk's {@code size} when the model has one. Parsing never gives a size (libvirt
     * ignores a size in a definition and measures it at dump time); the backup engine sets it.
     */
    SIZE
  }

  private CheckpointXml() {}

  /**
   * Parses and validates a checkpoint document in REDEFINE mode.
   *
   * @param xml the document's bytes (UTF-8)
   * @param resource the document's name for messages (a path, or {@code -})
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static Checkpoint parse(byte[] xml, String resource, Set<ParseOption> options) throws CheckpointXmlException {
    return parse(xml, resource, options, DomainGrammar.host());
  }

  /**
   * Parses and validates a checkpoint document in REDEFINE mode, validating its {@code <domain>}
   * against {@code domainGrammar}.
   *
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static Checkpoint parse(byte[] xml, String resource, Set<ParseOption> options, DomainGrammar domainGrammar)
      throws CheckpointXmlException {
    String text = SafeXml.read(xml, resource);
    return interpret(validatedRoot(text, resource, domainGrammar), text, resource, options);
  }

  private static XmlElement validatedRoot(String text, String resource, DomainGrammar domainGrammar)
      throws CheckpointXmlException {
    com.thaiopensource.validate.Schema domainSchema = domainGrammar.schema();
    return SafeXml.parseValidated(text, resource, MomentSchema.CHECKPOINT.checker(),
        domainSchema == null ? null : MomentSchema.checker(domainSchema));
  }

  // ------------------------------------------------------------------ interpretation

  /**
   * Parses a checkpoint in libvirt's CREATE mode, for a new checkpoint of a running domain: the
   * name defaults to the creation time; {@code <parent>}, {@code <creationTime>} and any
   * {@code <domain>} in the input are ignored (the parent is the tree's current checkpoint, which
   * {@code MomentTree.create} sets); the disks are aligned with {@code domain}, the domain's
   * definition now, which the checkpoint keeps.
   *
   * @param now the creation time to record, seconds since the epoch
   * @throws CheckpointXmlException when the document is refused
   */
  public static Checkpoint parseCreate(byte[] xml, String resource, DomainDefinition domain, long now)
      throws CheckpointXmlException {
    XmlElement root = validatedRoot(SafeXml.read(xml, resource), resource, DomainGrammar.host());
    String name = MomentXml.childText(root, "name").orElse(Long.toString(now));
    Checkpoint.Builder b = Checkpoint.builder().name(name).creationTime(now).domain(domain);
    MomentXml.childText(root, "description").ifPresent(b::description);
    List<XmlElement> at = new ArrayList<>();
    b.disks(DiskAlignment.align(listedDisks(root, resource, at), at, domain, name, resource));
    return build(b, root, resource);
  }

  private static Checkpoint interpret(XmlElement root, String text, String resource, Set<ParseOption> options)
      throws CheckpointXmlException {
    Checkpoint.Builder b = Checkpoint.builder();
    MomentXml.readMoment(root, b, "checkpoint", resource);
    Optional<String> name = Optional.of(b.name());
    Optional<String> created = MomentXml.childText(root, "creationTime");
    if (created.isEmpty()) {
      throw MomentXml.error(root, resource, "a redefined checkpoint needs a <creationTime>");
    }
    b.creationTime(MomentXml.parseNumber(MomentXml.child(root, "creationTime"), "creationTime", resource));
    XmlElement domain = MomentXml.child(root, "domain");
    if (domain == null && !options.contains(ParseOption.ALLOW_MISSING_DOMAIN)) {
      throw MomentXml.error(root, resource,
          "a redefined checkpoint needs its <domain> (use the option that allows a missing domain for libvirt's NO_DOMAIN form)");
    }
    if (domain != null) {
      b.domain(MomentXml.domainDefinition(domain, text, resource));
    }
    List<XmlElement> at = new ArrayList<>();
    List<CheckpointDisk> listed = listedDisks(root, resource, at);
    List<CheckpointDisk> aligned = domain == null
        ? DiskAlignment.defaultBitmaps(listed, name.get())
        : DiskAlignment.align(listed, at, b.build().domain().orElseThrow(), name.get(), resource);
    b.disks(aligned);
    return build(b, root, resource);
  }

  /**
   * The disks as the document lists them, before alignment; their {@code <disk>} elements are added
   * to {@code at} in the same order (for the positions of errors).
   */
  private static List<CheckpointDisk> listedDisks(XmlElement root, String resource, List<XmlElement> at)
      throws CheckpointXmlException {
    List<CheckpointDisk> listed = new ArrayList<>();
    XmlElement disks = MomentXml.child(root, "disks");
    if (disks != null) {
      for (XmlElement d : MomentXml.children(disks, "disk")) {
        Optional<String> bitmap = d.hasAttribute("bitmap") ? Optional.of(d.getAttribute("bitmap")) : Optional.empty();
        // a size in the input is checked by the grammar but not kept: libvirt measures it when
        // asked to print it (SIZE), it never takes it from a definition
        try {
          CheckpointType type = d.hasAttribute("checkpoint")
              ? CheckpointType.fromXmlName(d.getAttribute("checkpoint")) : CheckpointType.BITMAP;
          listed.add(CheckpointDisk.of(d.getAttribute("name"), type, bitmap, OptionalLong.empty()));
        } catch (IllegalArgumentException e) {
          throw MomentXml.error(d, resource, e.getMessage());
        }
        at.add(d);
      }
    }
    return listed;
  }

  private static Checkpoint build(Checkpoint.Builder b, XmlElement root, String resource) throws CheckpointXmlException {
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw MomentXml.error(root, resource, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ formatting

  /** Formats a checkpoint exactly as libvirt's {@code virsh checkpoint-dumpxml} would. */
  public static String format(Checkpoint c, Set<FormatFlag> flags) {
    StringBuilder out = new StringBuilder();
    out.append("<domaincheckpoint>\n");
    MomentXml.appendNameAndDescription(out, c);
    MomentXml.appendParent(out, c);
    MomentXml.appendCreationTime(out, c);
    if (!c.disks().isEmpty()) {
      out.append("  <disks>\n");
      for (CheckpointDisk d : c.disks()) {
        out.append("    <disk name='").append(MomentXml.escape(d.name())).append("' checkpoint='").append(d.type().xmlName()).append('\'');
        d.bitmap().ifPresent(bm -> out.append(" bitmap='").append(MomentXml.escape(bm)).append('\''));
        if (flags.contains(FormatFlag.SIZE) && d.size().isPresent()) {
          out.append(" size='").append(d.size().getAsLong()).append('\'');
        }
        out.append("/>\n");
      }
      out.append("  </disks>\n");
    }
    if (!flags.contains(FormatFlag.NO_DOMAIN)) {
      c.domain().ifPresent(d -> MomentXml.appendDomain(out, d, flags.contains(FormatFlag.SECURE)));
    }
    out.append("</domaincheckpoint>\n");
    return out.toString();
  }

  /** {@link #format} with no flags. */
  public static String format(Checkpoint c) {
    return format(c, EnumSet.noneOf(FormatFlag.class));
  }

}
