package org.tidemark.archive;

import java.nio.file.Path;
import java.util.List;

/**
 * The request names what the repository does not hold: a domain with no backups, a checkpoint with
 * no backup, a disk the backup does not have. A mistake in the request, not damage: the archives are as their writers left them
 * (a folder holding unreadable archives reports {@link ArchiveCorruptException} instead, as the
 * one asked for may be among them).
 */
public class UnknownPointException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /** Nothing of what was asked for in {@code folder} (a repository or a domain's folder). */
  public UnknownPointException(Path folder, String message) {
    super(folder, message);
  }

  /** Nothing of what was asked for at {@code where} in {@code file} (a backup's archive: a disk it does not have). */
  public UnknownPointException(Path file, Where where, String message) {
    super(file, where, message);
  }

  /** The repository at {@code root} holds no backup of {@code domain}; {@code domains} are those it holds. */
  public static UnknownPointException domain(Path root, String domain, List<String> domains) {
    return new UnknownPointException(root, "no backups of domain '" + domain + "' in this repository (domains: "
        + domains + ")");
  }
}
