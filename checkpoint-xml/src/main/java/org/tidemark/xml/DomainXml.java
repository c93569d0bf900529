package org.tidemark.xml;

import com.thaiopensource.validate.Schema;
import java.util.ArrayList;
import java.util.List;
import org.tidemark.model.DomainDefinition;

/**
 * Reads a libvirt domain definition ({@code <domain>}, as {@code virsh dumpxml} writes it): the
 * definition a new checkpoint is aligned with in libvirt's CREATE mode.
 *
 * <p>The document is read as safely as a checkpoint (same limits, no DTD or entities) and
 * validated against the {@link DomainGrammar} given: libvirt's {@code domain.rng} when installed,
 * else a structural check (a {@code <domain>} root with a {@code type} and a {@code <name>}).
 *
 * <p>Thread-safe.
 */
public final class DomainXml {
  private DomainXml() {}

  /**
   * The backing chain libvirt declares for a disk of {@code domain} ({@code <backingStore>}
   * elements nested under the disk whose target is {@code target}), top first: the {@code file}
   * (or {@code dev}) of each one's {@code <source>}. Empty when the definition declares none (an
   * inactive domain's definition often does not). A backup allows these files as backing files of
   * the disk's image, and no others outside its folder ({@code org.tidemark.qcow2.BackingPolicy}).
   *
   * @throws CheckpointXmlException when the definition's XML does not parse
   */
  public static List<String> backingChain(DomainDefinition domain, String target) throws CheckpointXmlException {
    XmlElement root = SafeXml.parseUnvalidated(domain.xml(), "domain '" + domain.name() + "'");
    List<String> chain = new ArrayList<>();
    XmlElement devices = MomentXml.child(root, "devices");
    if (devices == null) {
      return chain;
    }
    for (XmlElement disk : MomentXml.children(devices, "disk")) {
      XmlElement t = MomentXml.child(disk, "target");
      if (t == null || !target.equals(t.getAttribute("dev"))) {
        continue;
      }
      XmlElement store = MomentXml.child(disk, "backingStore");
      for (int depth = 0; store != null && depth < 64; depth++) {
        XmlElement source = MomentXml.child(store, "source");
        if (source != null) {
          String path = source.hasAttribute("file") ? source.getAttribute("file") : source.getAttribute("dev");
          if (path != null && !path.isEmpty()) {
            chain.add(path);
          }
        }
        store = MomentXml.child(store, "backingStore");
      }
    }
    return chain;
  }

  /** Parses a domain definition, validated against the host's libvirt grammar when installed. */
  public static DomainDefinition parse(byte[] xml, String resource) throws CheckpointXmlException {
    return parse(xml, resource, DomainGrammar.host());
  }

  /**
   * Parses a domain definition validated against {@code grammar}.
   *
   * @throws CheckpointXmlException when the document is refused; the message has its line and column
   */
  public static DomainDefinition parse(byte[] xml, String resource, DomainGrammar grammar) throws CheckpointXmlException {
    String text = SafeXml.read(xml, resource);
    Schema schema = grammar.schema();
    XmlElement root = schema == null
        ? SafeXml.parseUnvalidated(text, resource)
        : SafeXml.parseValidated(text, resource, MomentSchema.checker(schema), java.util.Map.of());
    if (!root.getLocalName().equals("domain")) {
      throw new CheckpointXmlException(resource, 1, 0, "expected a <domain> document, found <" + root.getLocalName() + ">");
    }
    if (root.getAttribute("type").isEmpty() || MomentXml.child(root, "name") == null) {
      throw new CheckpointXmlException(resource, 1, 0, "a <domain> needs a type attribute and a <name>");
    }
    return MomentXml.domainDefinition(root, text, resource);
  }
}
