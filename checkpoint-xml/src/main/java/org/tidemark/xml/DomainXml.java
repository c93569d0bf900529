package org.tidemark.xml;

import com.thaiopensource.validate.Schema;
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
