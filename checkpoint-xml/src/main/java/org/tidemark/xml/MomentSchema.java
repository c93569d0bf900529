package org.tidemark.xml;

import com.thaiopensource.util.PropertyMapBuilder;
import com.thaiopensource.validate.Schema;
import com.thaiopensource.validate.ValidateProperty;
import com.thaiopensource.validate.Validator;
import com.thaiopensource.validate.rng.SAXSchemaReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The grammars Tidemark ships for libvirt's moment documents ({@link #CHECKPOINT}, {@link
 * #SNAPSHOT}), each compiled once per process from the jar on first use (they include nothing, so
 * no URL resolution is involved) and shared; a {@link Validator} per thread and grammar is reused
 * across documents. The same per-thread reuse serves the libvirt grammars of {@link DomainGrammar}
 * ({@link #checker(Schema)}).
 */
final class MomentSchema {
  /** Tidemark's grammar of {@code <domaincheckpoint>}. */
  static final MomentSchema CHECKPOINT = new MomentSchema("domaincheckpoint.rng", "checkpoint");
  /** Tidemark's grammar of {@code <domainsnapshot>}. */
  static final MomentSchema SNAPSHOT = new MomentSchema("domainsnapshot.rng", "snapshot");

  private static final ThreadLocal<Map<Schema, Checker>> CHECKERS = ThreadLocal.withInitial(IdentityHashMap::new);

  private final String resource;
  private final String what;
  private volatile Schema schema;

  private MomentSchema(String resource, String what) {
    this.resource = resource;
    this.what = what;
  }

  /** The compiled grammar, compiled on first use. */
  Schema schema() {
    Schema s = schema;
    if (s == null) {
      synchronized (this) {
        s = schema;
        if (s == null) {
          s = load(resource, what);
          schema = s;
        }
      }
    }
    return s;
  }

  /** The calling thread's validator of this grammar, reset and ready for a document. */
  Checker checker() {
    return checker(schema());
  }

  /** The calling thread's validator of {@code schema}, reset and ready. */
  static Checker checker(Schema schema) {
    Checker c = CHECKERS.get().computeIfAbsent(schema, Checker::new);
    c.reset();
    return c;
  }

  private static Schema load(String resource, String what) {
    try (InputStream in = MomentSchema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is missing from the checkpoint-xml jar");
      }
      InputSource src = new InputSource(in);
      src.setSystemId("tidemark:" + resource);
      PropertyMapBuilder p = new PropertyMapBuilder();
      List<String> problems = new ArrayList<>();
      p.put(ValidateProperty.ERROR_HANDLER, new ErrorHandler() {
        @Override
        public void warning(SAXParseException e) {}

        @Override
        public void error(SAXParseException e) {
          problems.add(e.getLineNumber() + ": " + e.getMessage());
        }

        @Override
        public void fatalError(SAXParseException e) {
          problems.add(e.getLineNumber() + ": " + e.getMessage());
        }
      });
      try {
        return SAXSchemaReader.getInstance().createSchema(src, p.toPropertyMap());
      } catch (com.thaiopensource.validate.IncorrectSchemaException e) {
        throw new IllegalStateException("Tidemark's " + what + " grammar does not compile: " + problems, e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (SAXException e) {
      throw new IllegalStateException("Tidemark's " + what + " grammar does not compile: " + e.getMessage(), e);
    }
  }

  /** A validator and the errors it collected. */
  static final class Checker implements ErrorHandler {
    final List<SAXParseException> errors = new ArrayList<>();
    final Validator validator;

    /** A validator of {@code schema}. */
    Checker(Schema schema) {
      PropertyMapBuilder p = new PropertyMapBuilder();
      p.put(ValidateProperty.ERROR_HANDLER, this);
      validator = schema.createValidator(p.toPropertyMap());
    }

    void reset() {
      errors.clear();
      validator.reset();
    }

    @Override
    public void warning(SAXParseException e) {}

    @Override
    public void error(SAXParseException e) {
      if (errors.size() < 20) {
        errors.add(e);
      }
    }

    @Override
    public void fatalError(SAXParseException e) throws SAXException {
      errors.add(e);
      throw e;
    }
  }
}
