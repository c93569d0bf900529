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
import java.util.List;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The checkpoint grammar, compiled once per process from the jar (it includes nothing, so no URL
 * resolution is involved) and shared; a {@link Validator} per thread is reused across documents.
 * The same per-thread reuse serves the domain grammars of {@link DomainGrammar}.
 */
final class CheckpointSchema {
  private static final Schema SCHEMA = load();
  private static final ThreadLocal<Checker> CHECKERS = ThreadLocal.withInitial(Checker::new);
  private static final ThreadLocal<java.util.Map<Schema, Checker>> DOMAIN_CHECKERS =
      ThreadLocal.withInitial(java.util.IdentityHashMap::new);

  private CheckpointSchema() {}

  private static Schema load() {
    try (InputStream in = CheckpointSchema.class.getResourceAsStream("domaincheckpoint.rng")) {
      if (in == null) {
        throw new IllegalStateException("domaincheckpoint.rng is missing from the checkpoint-xml jar");
      }
      InputSource src = new InputSource(in);
      src.setSystemId("tidemark:domaincheckpoint.rng");
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
        throw new IllegalStateException("Tidemark's checkpoint grammar does not compile: " + problems, e);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (SAXException e) {
      throw new IllegalStateException("Tidemark's checkpoint grammar does not compile: " + e.getMessage(), e);
    }
  }

  /** The validator of the calling thread, reset and ready for a document. */
  static Checker checker() {
    Checker c = CHECKERS.get();
    c.reset();
    return c;
  }

  /** The calling thread's validator of a libvirt domain grammar, reset and ready. */
  static Checker checker(Schema schema) {
    Checker c = DOMAIN_CHECKERS.get().computeIfAbsent(schema, Checker::new);
    c.reset();
    return c;
  }

  /** A validator and the errors it collected. */
  static final class Checker implements ErrorHandler {
    final List<SAXParseException> errors = new ArrayList<>();
    final Validator validator;

    Checker() {
      this(SCHEMA);
    }

    /** A validator of {@code schema} (a grammar of libvirt's, for the embedded domain). */
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
