/**
 * Live backups of running VMs: libvirt pull-mode backup jobs (libvirt-java) and disks read over NBD
 * (libnbd through JNA). The native libraries are loaded only when a live backup runs.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module org.tidemark.live {
  requires transitive org.tidemark.engine;
  requires com.sun.jna;
  // libvirt-java has no module descriptor nor Automatic-Module-Name: named after its jar file.
  // Transitive: LiveBackupRunner takes a libvirt Connect.
  requires transitive libvirt;
  requires org.slf4j;

  exports org.tidemark.libvirt;
  exports org.tidemark.nbd;
  // JNA reads and writes the fields of libnbd's callback structure by reflection
  opens org.tidemark.nbd to com.sun.jna;
}
