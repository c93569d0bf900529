package org.tidemark.xml;

/**
 * A checkpoint document was refused: not well-formed, not valid against the grammar, unsafe, or
 * breaking one of libvirt's rules. {@link #getMessage()} reads {@code RESOURCE:LINE:COLUMN: what}
 * (line and column are omitted when unknown, i.e. 0).
 */
public class CheckpointXmlException extends Exception {
  private final String resource;
  private final int line;
  private final int column;
  private final String problem;

  /** A refusal at a position of a resource (a file name, or {@code -} for standard input). */
  public CheckpointXmlException(String resource, int line, int column, String problem) {
    super(resource + (line > 0 ? ":" + line + (column > 0 ? ":" + column : "") : "") + ": " + problem);
    this.resource = resource;
    this.line = line;
    this.column = column;
    this.problem = problem;
  }

  /** The document's name. */
  public String resource() {
    return resource;
  }

  /** The 1-based line, or 0 when unknown. */
  public int line() {
    return line;
  }

  /** The 1-based column, or 0 when unknown. */
  public int column() {
    return column;
  }

  /** What is wrong, without the position. */
  public String problem() {
    return problem;
  }
}
