package org.tidemark.backup;

/**
 * Takes the {@code <domain>} element out of a checkpoint document as libvirt formats it (the
 * element indented by two spaces inside {@code <domaincheckpoint>}) and gives it back as a
 * top-level document, the way {@code virsh dumpxml} prints it.
 */
final class DomainXmlExtractor {
  private DomainXmlExtractor() {}

  static String extract(String checkpointXml) {
    int start = checkpointXml.indexOf("\n  <domain");
    int end = checkpointXml.indexOf("\n  </domain>", start + 1);
    if (start < 0 || end < 0) {
      return "";
    }
    String block = checkpointXml.substring(start + 1, end + "\n  </domain>".length());
    StringBuilder out = new StringBuilder(block.length());
    for (String line : block.split("\n", -1)) {
      out.append(line.startsWith("  ") ? line.substring(2) : line).append('\n');
    }
    return out.toString();
  }
}
