package org.tidemark.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A libvirt snapshot ({@code <domainsnapshot>}): a moment plus the domain state it was taken in,
 * how memory was saved, per-disk snapshot records and, for a running domain, the inactive
 * definition. Immutable and thread-safe.
 */
public final class Snapshot extends Moment {
  private final Optional<String> state;
  private final Optional<SnapshotMemory> memory;
  private final List<SnapshotDisk> disks;
  private final Optional<DomainDefinition> inactiveDomain;

  private Snapshot(Builder b) {
    super(b);
    this.state = Optional.ofNullable(b.state);
    this.memory = Optional.ofNullable(b.memory);
    this.disks = List.copyOf(b.disks);
    this.inactiveDomain = Optional.ofNullable(b.inactiveDomain);
  }

  /** A builder with nothing set. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this snapshot's fields. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /**
   * The domain state when the snapshot was taken ({@code running}, {@code shutoff},
   * {@code disk-snapshot}, ...).
   */
  public Optional<String> state() {
    return state;
  }

  /** How memory was saved, when given. */
  public Optional<SnapshotMemory> memory() {
    return memory;
  }

  /** The per-disk records, in document order. */
  public List<SnapshotDisk> disks() {
    return disks;
  }

  /** The inactive domain definition of a running domain, when kept. */
  public Optional<DomainDefinition> inactiveDomain() {
    return inactiveDomain;
  }

  @Override
  public Snapshot withParentName(Optional<String> parentName) {
    return toBuilder().parentName(parentName.orElse(null)).build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot s
        && momentEquals(s)
        && state.equals(s.state)
        && memory.equals(s.memory)
        && disks.equals(s.disks)
        && inactiveDomain.equals(s.inactiveDomain);
  }

  @Override
  public int hashCode() {
    return Objects.hash(momentHashCode(), state, memory, disks, inactiveDomain);
  }

  @Override
  public String toString() {
    return "Snapshot{" + momentFields() + state.map(s -> ", state=" + s).orElse("")
        + memory.map(m -> ", memory=" + m).orElse("") + ", disks=" + disks + "}";
  }

  /** Builder of {@link Snapshot}. Not thread-safe. */
  public static final class Builder extends Moment.Builder<Snapshot, Builder> {
    private String state;
    private SnapshotMemory memory;
    private final List<SnapshotDisk> disks = new ArrayList<>();
    private DomainDefinition inactiveDomain;

    private Builder() {}

    private Builder(Snapshot s) {
      super(s);
      this.state = s.state.orElse(null);
      this.memory = s.memory.orElse(null);
      this.disks.addAll(s.disks);
      this.inactiveDomain = s.inactiveDomain.orElse(null);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /** Sets the domain state; {@code null} for none. */
    public Builder state(String state) {
      this.state = state;
      return this;
    }

    /** Sets the memory record; {@code null} for none. */
    public Builder memory(SnapshotMemory memory) {
      this.memory = memory;
      return this;
    }

    /** Appends a disk record. */
    public Builder addDisk(SnapshotDisk disk) {
      disks.add(Objects.requireNonNull(disk, "disk"));
      return this;
    }

    /** Sets the inactive domain definition; {@code null} for none. */
    public Builder inactiveDomain(DomainDefinition inactiveDomain) {
      this.inactiveDomain = inactiveDomain;
      return this;
    }

    /** Builds the snapshot. */
    @Override
    public Snapshot build() {
      return new Snapshot(this);
    }
  }
}
