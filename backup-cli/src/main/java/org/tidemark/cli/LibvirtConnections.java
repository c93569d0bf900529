package org.tidemark.cli;

import java.io.IOException;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/**
 * Opens libvirt connections for the commands that use libvirt ({@code backup --domain}, {@code
 * restore --define}): one place for the two ways it fails, libvirt unreachable and its client
 * library missing, each a one-line message. Only those commands load this class (and libvirt).
 */
final class LibvirtConnections {
  /**
   * Swallows the errors libvirt's client library would print on stderr by itself ("libvirt: QEMU
   * Driver error : ..."): each one also reaches Tidemark as a LibvirtException, which the command
   * reports once, in its own words. Kept in a field: the native side holds a pointer to it.
   */
  private static final org.libvirt.jna.Libvirt.VirErrorCallback QUIET = (userData, error) -> { };

  private LibvirtConnections() {}

  /**
   * A connection to {@code uri}.
   *
   * @throws IOException when libvirt cannot be reached, or its client library is not installed
   */
  static Connect open(String uri) throws IOException {
    try {
      Connect.setErrorCallback(QUIET);
      return new Connect(uri);
    } catch (LibvirtException e) {
      String m = e.getMessage();
      throw new IOException("cannot connect to libvirt at " + uri + ": " + (m == null ? "no reason given" : m.strip()), e);
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      throw new IOException("libvirt's client library is not installed (libvirt.so.0 was not found; Debian/Ubuntu: "
          + "apt-get install libvirt0): it is needed to talk to libvirt");
    }
  }
}
