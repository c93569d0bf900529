package org.tidemark.model;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A libvirt checkpoint ({@code <domaincheckpoint>}): a moment plus one entry per disk saying whether
 * a persistent dirty bitmap tracks it. Disks keep the order they were given in (libvirt's order:
 * the domain's disk order once aligned). Immutable and thread-safe.
 */
public final class Checkpoint extends Moment {
  private final List<CheckpointDisk> disks;

  private Checkpoint(Builder b) {
    super(b);
    this.disks = List.copyOf(b.disks);
    Set<String> seen = new HashSet<>();
    for (CheckpointDisk d : disks) {
      if (!seen.add(d.name())) {
        throw new IllegalArgumentException("disk '" + d.name() + "' specified twice in checkpoint " + name());
      }
    }
  }

  /** A builder with nothing set. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this checkpoint's fields, to derive a modified copy. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** The disks, in document order. */
  public List<CheckpointDisk> disks() {
    return disks;
  }

  /** The disk with the given target name, if listed. */
  public Optional<CheckpointDisk> disk(String name) {
    return disks.stream().filter(d -> d.name().equals(name)).findFirst();
  }

  @Override
  public Checkpoint withParentName(Optional<String> parentName) {
    return toBuilder().parentName(parentName.orElse(null)).build();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c && momentEquals(c) && disks.equals(c.disks);
  }

  @Override
  public int hashCode() {
    return 31 * momentHashCode() + disks.hashCode();
  }

  @Override
  public String toString() {
    return "Checkpoint{" + momentFields() + ", disks=" + disks + "}";
  }

  /** Builder of {@link Checkpoint}. Not thread-safe. */
  public static final class Builder extends Moment.Builder<Checkpoint, Builder> {
    private final List<CheckpointDisk> disks = new ArrayList<>();

    private Builder() {}

    private Builder(Checkpoint c) {
      super(c);
      disks.addAll(c.disks);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /** Appends a disk. */
    public Builder addDisk(CheckpointDisk disk) {
      disks.add(Objects.requireNonNull(disk, "disk"));
      return this;
    }

    /** Replaces all disks. */
    public Builder disks(List<CheckpointDisk> disks) {
      this.disks.clear();
      disks.forEach(this::addDisk);
      return this;
    }

    /** The disks added so far (a copy). */
    public List<CheckpointDisk> disks() {
      return List.copyOf(disks);
    }

    /**
     * Builds the checkpoint.
     *
     * @throws IllegalArgumentException when the name is missing or a disk is listed twice
     */
    @Override
    public Checkpoint build() {
      return new Checkpoint(this);
    }
  }
}
