package org.tidemark.nbd;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an NBD export is served and its name: a Unix socket (a local libvirt backup job) or a TCP
 * host and port (a remote one). {@link #uri()} is the export's NBD URI, for messages.
 *
 * @param socket the Unix socket, or empty for TCP
 * @param host the TCP host, or empty for a Unix socket
 * @param port the TCP port (0 for a Unix socket)
 * @param exportName the export's name (libvirt names a disk's export after its target, {@code vda})
 */
public record NbdEndpoint(Optional<Path> socket, Optional<String> host, int port, String exportName) {
  /** Checks that exactly one transport is given. */
  public NbdEndpoint {
    Objects.requireNonNull(exportName, "exportName");
    if (socket.isPresent() == host.isPresent()) {
      throw new IllegalArgumentException("an NBD endpoint is a Unix socket or a TCP host, not both or neither");
    }
    if (host.isPresent() && (port <= 0 || port > 65535)) {
      throw new IllegalArgumentException("TCP port " + port + " (expected 1 to 65535)");
    }
  }

  /** An export served on a Unix socket. */
  public static NbdEndpoint unix(Path socket, String exportName) {
    return new NbdEndpoint(Optional.of(socket), Optional.empty(), 0, exportName);
  }

  /** An export served over TCP. */
  public static NbdEndpoint tcp(String host, int port, String exportName) {
    return new NbdEndpoint(Optional.empty(), Optional.of(host), port, exportName);
  }

  /** The NBD URI: {@code nbd+unix:///NAME?socket=PATH} or {@code nbd://HOST:PORT/NAME}. */
  public String uri() {
    return socket.map(s -> "nbd+unix:///" + exportName + "?socket=" + s)
        .orElseGet(() -> "nbd://" + host.orElseThrow() + ":" + port + "/" + exportName);
  }
}
