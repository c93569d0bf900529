package org.tidemark.xml;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.IncorrectSchemaException;
import com.thaiopensource.validate.Schema;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.rng.SAXSchemaReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The grammar the {@code <domain>} inside a checkpoint is validated against.
 *
 * <p>Tidemark's own checkpoint grammar always checks the domain's structure (an element with a
 * {@code type}, a {@code <name>}, any content). When libvirt's schemas are installed, the domain
 * is also validated against libvirt's {@code domain.rng}, exactly as libvirt validates it: {@link
 * #host()} uses the directory named by the system property {@value #DIRECTORY_PROPERTY}, else
 * {@value #DEFAULT_DIRECTORY}, and falls back to the structural check when that directory has no
 * {@code domain.rng}. A grammar is compiled once per directory and process and shared by all
 * threads (compiling libvirt's grammar takes a moment; validating with it is fast).
 *
 * <p>Thread-safe.
 */
public final class DomainGrammar {
  /** The system property naming the directory of libvirt's RELAX NG schemas. */
  public static final String DIRECTORY_PROPERTY = "tidemark.libvirt.schemas";
  /** Where libvirt installs its schemas. */
  public static final String DEFAULT_DIRECTORY = "/usr/share/libvirt/schemas";

  private static final DomainGrammar BUILT_IN = new DomainGrammar(null);
  private static final Map<Path, Schema> COMPILED = new ConcurrentHashMap<>();
  private static final Map<Path, Object> COMPILING = new ConcurrentHashMap<>();

  private final Path directory;

  private DomainGrammar(Path directory) {
    this.directory = directory;
  }

  /** The structural check of Tidemark's checkpoint grammar only. */
  public static DomainGrammar builtIn() {
    return BUILT_IN;
  }

  /**
   * libvirt's {@code domain.rng} from the host's schema directory ({@value #DIRECTORY_PROPERTY}
   * or {@value #DEFAULT_DIRECTORY}), or {@link #builtIn()} when it holds no {@code domain.rng}.
   */
  public static DomainGrammar host() {
    Path dir = Path.of(System.getProperty(DIRECTORY_PROPERTY, DEFAULT_DIRECTORY));
    return Files.isRegularFile(dir.resolve("domain.rng")) ? new DomainGrammar(dir) : BUILT_IN;
  }

  /**
   * libvirt's {@code domain.rng} from {@code directory}, which must hold it (with the files it
   * includes).
   *
   * @throws IllegalArgumentException when {@code directory} has no {@code domain.rng}
   */
  public static DomainGrammar directory(Path directory) {
    if (!Files.isRegularFile(directory.resolve("domain.rng"))) {
      throw new IllegalArgumentException(directory + " holds no domain.rng (libvirt's schema directory expected)");
    }
    return new DomainGrammar(directory.toAbsolutePath().normalize());
  }

  /**
   * Compiles libvirt's grammar now rather than on first use (compiling it takes a moment; a caller
   * can start it on another thread while it does other work). Does nothing for {@link #builtIn()}.
   *
   * @throws CheckpointXmlException when libvirt's grammar does not compile
   */
  public DomainGrammar preload() throws CheckpointXmlException {
    schema();
    return this;
  }

  /** The schema directory used, empty for the built-in structural check. */
  public Optional<Path> schemaDirectory() {
    return Optional.ofNullable(directory);
  }

  /** What validates the domain, for messages: "libvirt's DIR/domain.rng" or "structure only". */
  @Override
  public String toString() {
    return directory == null ? "Tidemark's structural domain grammar" : "libvirt's " + directory.resolve("domain.rng");
  }

  /** libvirt's compiled grammar, or null for the built-in check. */
  Schema schema() throws CheckpointXmlException {
    return directory == null ? null : compiled(directory.resolve("domain.rng"));
  }

  /**
   * libvirt's compiled grammar of a snapshot's {@code <inactiveDomain>} ({@code inactiveDomain.rng}
   * beside {@code domain.rng}), or null for the built-in check or when the directory has none.
   */
  Schema inactiveSchema() throws CheckpointXmlException {
    if (directory == null || !Files.isRegularFile(directory.resolve("inactiveDomain.rng"))) {
      return null;
    }
    return compiled(directory.resolve("inactiveDomain.rng"));
  }

  private static Schema compiled(Path file) throws CheckpointXmlException {
    Schema s = COMPILED.get(file);
    if (s != null) {
      return s;
    }
    // one compilation per file: a caller arriving meanwhile waits for it rather than redoing it
    synchronized (COMPILING.computeIfAbsent(file, f -> new Object())) {
      s = COMPILED.get(file);
      if (s == null) {
        s = compile(file);
        COMPILED.put(file, s);
      }
      return s;
    }
  }

  private static Schema compile(Path file) throws CheckpointXmlException {
    List<String> problems = new ArrayList<>();
    PropertyMapBuilder p = new PropertyMapBuilder();
    p.put(ValidateProperty.ERROR_HANDLER, new ErrorHandler() {
      @Override
      public void warning(SAXParseException e) {}

      @Override
      public void error(SAXParseException e) {
        problems.add(e.getSystemId() + ":" + e.getLineNumber() + ": " + e.getMessage());
      }

      @Override
      public void fatalError(SAXParseException e) {
        error(e);
      }
    });
    try {
      // a file: URL, so Jing resolves the grammar's <include href> against the same directory
      return SAXSchemaReader.getInstance().createSchema(new InputSource(file.toUri().toString()), p.toPropertyMap());
    } catch (IncorrectSchemaException | SAXException | IOException e) {
      String why = problems.isEmpty() ? String.valueOf(e.getMessage()) : problems.get(0);
      throw new CheckpointXmlException(file.toString(), 0, 0, "libvirt's grammar " + file.getFileName() + " cannot be compiled: " + why);
    }
  }
}
