package org.tidemark.cli;

/**
 * The documented exit codes of the {@code tidemark} command. A nightly job can act on them without
 * parsing any output.
 */
public final class ExitCodes {
  /** Everything asked for was done. */
  public static final int OK = 0;
  /** {@code image compare}: the images differ. */
  public static final int DIFFERENT = 1;
  /** The command line was wrong: an unknown option, a missing argument. */
  public static final int USAGE = 2;
  /**
   * An input was invalid: bad checkpoint XML, a corrupt or unsupported image; or the request names
   * what the repository does not hold (a domain, a checkpoint, a disk of the backup).
   */
  public static final int INVALID_INPUT = 3;
  /**
   * Verification (or {@code list}) found a corrupt or incomplete archive, or a chain that cannot be
   * restored; or {@code prune} met such damage in a domain (nothing of it removed unless {@code
   * --allow-damaged}).
   */
  public static final int CORRUPT_ARCHIVE = 4;
  /** Reading or writing a file failed (missing file, permission, disk full). */
  public static final int IO_ERROR = 5;
  /** Done, with a fallback worth a look: some disk was backed up in full instead of incrementally. */
  public static final int PARTIAL = 6;
  /**
   * An existing file would have been overwritten (use --force to allow it), or {@code restore
   * --define} named a domain libvirt already has (never replaced); nothing was written.
   */
  public static final int WOULD_OVERWRITE = 7;
  /**
   * Another Tidemark run holds the domain's repository lock (a backup still running, perhaps an
   * overlapping cron job); nothing was done. {@code --lock-wait} queues behind it instead.
   */
  public static final int LOCKED = 8;
  /**
   * A disk image is in use by a running QEMU (QEMU's image locks): reading its file would copy a
   * torn, stale image; nothing was written. Back the domain up live through libvirt, or shut it down.
   */
  public static final int DISK_IN_USE = 9;
  /**
   * {@code backup --domain --quiesce=required}: the guest agent did not freeze the file systems;
   * nothing was done (no checkpoint, no archive).
   */
  public static final int QUIESCE_FAILED = 10;
  /**
   * Interrupted by Ctrl-C (SIGINT; SIGTERM gives 143): nothing half-written is left under a final
   * name, and the temporary files of the run are removed.
   */
  public static final int INTERRUPTED = 130;
  /** A bug in Tidemark: please report it with the output of --debug. */
  public static final int INTERNAL_ERROR = 70;

  private ExitCodes() {}

  /** The table shown at the end of {@code tidemark --help}. */
  static String helpTable() {
    return String.join(
        "%n",
        "Exit codes:",
        "  0   success",
        "  1   image compare: the images differ",
        "  2   usage error (unknown option, missing argument, restore --to naming a file)",
        "  3   invalid input (bad checkpoint XML, corrupt or unsupported image)",
        "  4   verify, list or prune found a corrupt or incomplete archive or a broken chain",
        "  5   I/O error (missing file, permission denied, disk full; a restore that would not fit, refused first)",
        "  6   partial success: done, but some disk fell back to a full backup",
        "  7   refused to overwrite an existing file (restore: use --force; a backup is never replaced) or libvirt domain"
            + " (restore --define); nothing written",
        "  8   another tidemark run holds the domain's repository lock; nothing done (see --lock-wait)",
        "  9   a disk image is in use by a running QEMU; nothing written (back it up live, or shut it down)",
        "  10  --quiesce=required and the guest agent did not freeze the file systems; nothing done",
        "  70  internal error (a bug: rerun with --debug and report it)",
        "  130 interrupted by Ctrl-C: temporary files removed, nothing half-written kept",
        "  143 terminated by SIGTERM (same cleanup)");
  }

  /**
   * The exit code of a run over several domains (prune, consolidate --all): the worst of its
   * domains' (an I/O or other error, then a lock, then damage); of two equally bad, the first.
   */
  static int worse(int a, int b) {
    return rank(b) > rank(a) ? b : a;
  }

  private static int rank(int code) {
    return code == OK ? 0 : code == CORRUPT_ARCHIVE ? 1 : code == LOCKED ? 2 : 3;
  }
}
