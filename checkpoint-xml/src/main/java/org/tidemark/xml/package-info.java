/**
 * libvirt checkpoint and snapshot XML. {@link org.tidemark.xml.CheckpointXml} parses
 * {@code <domaincheckpoint>} documents into the model of {@code org.tidemark.model}, always
 * validating them against Tidemark's RELAX NG grammar first; {@link org.tidemark.xml.SnapshotXml}
 * parses {@code <domainsnapshot>} documents, validating them only on request
 * ({@link org.tidemark.xml.SnapshotXml.ParseOption#VALIDATE}), as libvirt does. Both share the
 * moment parts (name, description, parent, creation time, the kept domain), read every document
 * safely (size and depth limits, no DTD internal subsets, entities or external resources) and format
 * byte for byte as libvirt does. {@link org.tidemark.xml.DomainGrammar} chooses the grammar of the
 * embedded domains, {@link org.tidemark.xml.DomainXml} reads a domain definition, and
 * {@link org.tidemark.xml.CheckpointSet} reads and checks a folder of one domain's checkpoints as a
 * whole. Every refusal is
 * a {@link org.tidemark.xml.CheckpointXmlException} naming the resource, line and column.
 */
package org.tidemark.xml;
