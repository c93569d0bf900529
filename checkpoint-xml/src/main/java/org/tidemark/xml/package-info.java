/**
 * libvirt checkpoint XML: {@link org.tidemark.xml.CheckpointXml} parses {@code <domaincheckpoint>}
 * documents into the model of {@code org.tidemark.model}, always validating them against
 * Tidemark's RELAX NG grammar first, and formats checkpoints byte for byte as libvirt does. Every
 * refusal is a {@link org.tidemark.xml.CheckpointXmlException} naming the resource, line and column.
 */
package org.tidemark.xml;
