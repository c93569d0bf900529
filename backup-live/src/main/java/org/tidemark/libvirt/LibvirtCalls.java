package org.tidemark.libvirt;

import org.libvirt.LibvirtException;

/** Calls into libvirt-java whose failures become {@link LibvirtBackupException}s. */
final class LibvirtCalls {
  private LibvirtCalls() {}

  /** A call into libvirt-java. */
  interface LibvirtCall<T> {
    T call() throws LibvirtException;
  }

  /** Runs {@code call}; libvirt's error becomes a {@link LibvirtBackupException} naming the domain and {@code what}. */
  static <T> T call(String domain, String what, LibvirtCall<T> call) throws LibvirtBackupException {
    try {
      return call.call();
    } catch (LibvirtException e) {
      throw new LibvirtBackupException(domain, what, e);
    }
  }
}
