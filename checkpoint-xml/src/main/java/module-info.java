/**
 * Checkpoint XML: parses, validates (RELAX NG, with Jing) and formats libvirt's checkpoint and
 * snapshot documents into and from {@code org.tidemark.model}.
 */
@SuppressWarnings("requires-automatic")
module org.tidemark.xml {
  requires transitive org.tidemark.model;
  requires java.xml;
  // Jing has no module descriptor nor Automatic-Module-Name: its automatic module is named after
  // its jar file (jing-VERSION.jar), as Maven lays it out.
  requires jing;

  exports org.tidemark.xml;
}
