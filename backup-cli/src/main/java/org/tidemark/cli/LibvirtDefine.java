package org.tidemark.cli;

import java.io.IOException;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * {@code restore --define NEWNAME}: the libvirt side, through libvirt-java. Opened before the
 * restore writes anything (a name libvirt already has is refused then), it defines the restored
 * definition once it is written. A class of its own so that a restore without {@code --define}
 * never loads libvirt's classes (or its native library).
 */
final class LibvirtDefine implements AutoCloseable {
  private final Connect connection;
  private final String uri;
  private final String name;

  private LibvirtDefine(Connect connection, String uri, String name) {
    this.connection = connection;
    this.uri = uri;
    this.name = name;
  }

  /**
   * Connects to {@code uri} and checks that no domain is named {@code name}.
   *
   * @throws CliFailure ({@link ExitCodes#WOULD_OVERWRITE}) when one is
   * @throws IOException when libvirt cannot be reached or asked
   */
  static LibvirtDefine open(String uri, String name) throws IOException {
    Connect connection = LibvirtConnections.open(uri);
    LibvirtDefine d = new LibvirtDefine(connection, uri, name);
    try {
      d.refuseExisting();
      return d;
    } catch (IOException | RuntimeException e) {
      d.close();
      throw e;
    }
  }

  /**
   * Refuses a name some domain (running or not) has. The domains are listed rather than looked up
   * by name: a failed lookup makes libvirt's client print its error on stderr.
   */
  private void refuseExisting() throws IOException {
    boolean taken = false;
    try {
      for (Domain d : connection.listAllDomains(0)) {
        try {
          taken |= name.equals(d.getName());
        } finally {
          free(d);
        }
      }
    } catch (LibvirtException e) {
      throw new IOException("cannot list the domains of libvirt at " + uri + ": " + message(e), e);
    }
    if (taken) {
      throw new CliFailure(ExitCodes.WOULD_OVERWRITE, "a domain named '" + name + "' is already defined in libvirt at " + uri
          + "; nothing written (choose another --define name; restore never replaces a libvirt domain)");
    }
  }

  /** Defines {@code xml} (persistently, not started); {@code file} is where it was written, for the message. */
  void define(String xml, String file) throws IOException {
    try {
      free(connection.domainDefineXML(xml));
    } catch (LibvirtException e) {
      throw new IOException("the disks and " + file + " are restored, but libvirt at " + uri + " did not define '" + name
          + "': " + message(e), e);
    }
  }

  private static void free(Domain d) {
    try {
      d.free();
    } catch (LibvirtException e) {
      // a handle that cannot be freed: nothing to undo
    }
  }

  private static String message(LibvirtException e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.strip();
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (LibvirtException e) {
      // closing: nothing to undo
    }
  }
}
