package org.tidemark.model;

/**
 * An operation on a {@link MomentTree} was refused; nothing was changed. Messages follow libvirt's
 * wording, so an operator sees the same text from Tidemark and from {@code virsh}.
 *
 * <p>Unchecked, like the other argument errors of a collection: callers that take moments from
 * untrusted input catch it (the CLI reports it as invalid input).
 */
public class MomentTreeException extends RuntimeException {
  /** A refusal with libvirt's message. */
  public MomentTreeException(String message) {
    super(message);
  }

  /** A moment of that name is already in the tree: "domain moment X already exists". */
  public static final class Duplicate extends MomentTreeException {
    Duplicate(String name) {
      super("domain moment " + name + " already exists");
    }
  }

  /** No moment of that name is in the tree. */
  public static final class NotFound extends MomentTreeException {
    NotFound(String name) {
      super("no domain moment with matching name '" + name + "'");
    }
  }

  /** The parent a moment names is not in the tree: "parent P for moment X not found". */
  public static final class MissingParent extends MomentTreeException {
    MissingParent(String parent, String name) {
      super("parent " + parent + " for moment " + name + " not found");
    }
  }

  /**
   * The parent a moment names would make a cycle: "cannot set moment X as its own parent" or
   * "parent P would create cycle to X".
   */
  public static final class Cycle extends MomentTreeException {
    Cycle(String message) {
      super(message);
    }
  }
}
