package org.tidemark.model;

import java.util.Objects;
import java.util.Optional;

/**
 * The domain at a moment in time: the part that libvirt checkpoints and snapshots share
 * (libvirt's {@code virDomainMomentDef}).
 *
 * <p>A creation time of {@code 0} means "not set" as in libvirt: it is accepted and not printed.
 * Instances are immutable and thread-safe.
 */
public abstract class Moment {
  private final String name;
  private final Optional<String> description;
  private final Optional<String> parentName;
  private final long creationTime;
  private final Optional<DomainDefinition> domain;

  /** Copies the shared fields from a builder; subclasses call this from their constructor. */
  protected Moment(Builder<?, ?> b) {
    this.name = requireName(b.name);
    this.description = Optional.ofNullable(b.description).filter(d -> !d.isEmpty());
    this.parentName = Optional.ofNullable(b.parentName);
    if (parentName.isPresent() && parentName.get().isEmpty()) {
      throw new IllegalArgumentException("parent name may not be empty");
    }
    this.creationTime = b.creationTime;
    this.domain = Optional.ofNullable(b.domain);
  }

  private static String requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("name may not be empty");
    }
    return name;
  }

  /** The moment's name, unique within its tree. */
  public final String name() {
    return name;
  }

  /** The free-form description; never present as an empty string. */
  public final Optional<String> description() {
    return description;
  }

  /** The name of the parent moment, absent for a root. */
  public final Optional<String> parentName() {
    return parentName;
  }

  /** Creation time in seconds since the epoch; {@code 0} when not set. */
  public final long creationTime() {
    return creationTime;
  }

  /** The domain definition saved with this moment, when it was kept. */
  public final Optional<DomainDefinition> domain() {
    return domain;
  }

  /**
   * Returns a copy of this moment with another parent (or none), used by the tree when it
   * re-parents children of a deleted moment.
   */
  public abstract Moment withParentName(Optional<String> parentName);

  /** Equality of the shared fields; subclasses add theirs. */
  protected final boolean momentEquals(Moment o) {
    return name.equals(o.name)
        && description.equals(o.description)
        && parentName.equals(o.parentName)
        && creationTime == o.creationTime
        && domain.equals(o.domain);
  }

  /** Hash of the shared fields; subclasses combine theirs with it. */
  protected final int momentHashCode() {
    return Objects.hash(name, description, parentName, creationTime, domain);
  }

  /** Text of the shared fields for {@code toString}. */
  protected final String momentFields() {
    return "name="
        + name
        + description.map(d -> ", description=" + d).orElse("")
        + parentName.map(p -> ", parent=" + p).orElse("")
        + (creationTime != 0 ? ", creationTime=" + creationTime : "")
        + domain.map(d -> ", domain=" + d.name()).orElse("");
  }

  /**
   * Builder of the shared fields.
   *
   * @param <M> the moment type built
   * @param <B> the concrete builder type, returned by every setter
   */
  public abstract static class Builder<M extends Moment, B extends Builder<M, B>> {
    String name;
    String description;
    String parentName;
    long creationTime;
    DomainDefinition domain;

    protected Builder() {}

    /** Starts from the shared fields of an existing moment. */
    protected Builder(Moment m) {
      this.name = m.name;
      this.description = m.description.orElse(null);
      this.parentName = m.parentName.orElse(null);
      this.creationTime = m.creationTime;
      this.domain = m.domain.orElse(null);
    }

    /** This builder, typed as the concrete builder. */
    protected abstract B self();

    /** Builds the immutable moment. */
    public abstract M build();

    /** Sets the name (required, non-empty). */
    public B name(String name) {
      this.name = name;
      return self();
    }

    /** Sets the description; {@code null} or empty means none. */
    public B description(String description) {
      this.description = description;
      return self();
    }

    /** Sets the parent name; {@code null} means a root. */
    public B parentName(String parentName) {
      this.parentName = parentName;
      return self();
    }

    /** Sets the creation time in seconds since the epoch; {@code 0} means not set. */
    public B creationTime(long creationTime) {
      this.creationTime = creationTime;
      return self();
    }

    /** Sets the domain definition; {@code null} means none was kept. */
    public B domain(DomainDefinition domain) {
      this.domain = domain;
      return self();
    }

    /** The name set so far, or {@code null}. */
    public String name() {
      return name;
    }

    /** The creation time set so far. */
    public long creationTime() {
      return creationTime;
    }
  }
}
