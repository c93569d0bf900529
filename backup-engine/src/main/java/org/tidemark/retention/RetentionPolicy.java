package org.tidemark.retention;

import java.time.ZoneId;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;

/**
 * Which points of a domain to keep: for each {@link RetentionRule}, how many of its buckets, and
 * the time zone the calendar rules read a point's creation time in.
 *
 * <p>Rules work as restic's do: each on its own, over all restorable points newest first, keeping
 * the newest point of each of its newest N buckets (a bucket with no point does not count). A
 * point kept by several rules lists each. A policy keeps at least one point: one whose counts are
 * all zero is refused, as removing every backup is never what a default should do.
 *
 * <p>An immutable value; build one with {@link #builder()}.
 */
public final class RetentionPolicy {
  private final Map<RetentionRule, Integer> counts;
  private final ZoneId zone;

  private RetentionPolicy(Map<RetentionRule, Integer> counts, ZoneId zone) {
    this.counts = Collections.unmodifiableMap(new EnumMap<>(counts));
    this.zone = zone;
  }

  /** A builder with every count zero and the system's default time zone. */
  public static Builder builder() {
    return new Builder();
  }

  /** How many buckets of {@code rule} to keep (0: the rule is off). */
  public int count(RetentionRule rule) {
    return counts.getOrDefault(rule, 0);
  }

  /** The rules with a count above zero, with their counts, in {@link RetentionRule} order. */
  public Map<RetentionRule, Integer> rules() {
    return counts;
  }

  /** The zone the calendar rules read creation times in. */
  public ZoneId zone() {
    return zone;
  }

  /** The rules as the command line spells them: {@code keep-last 3, keep-daily 7}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    counts.forEach((r, n) -> b.append(b.length() == 0 ? "" : ", ").append(r.option()).append(' ').append(n));
    return b + " (" + zone + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetentionPolicy p && p.counts.equals(counts) && p.zone.equals(zone);
  }

  @Override
  public int hashCode() {
    return Objects.hash(counts, zone);
  }

  /** Builds a {@link RetentionPolicy}. */
  public static final class Builder {
    private final Map<RetentionRule, Integer> counts = new EnumMap<>(RetentionRule.class);
    private ZoneId zone = ZoneId.systemDefault();

    private Builder() {}

    /**
     * Keeps the newest point of each of the newest {@code n} buckets of {@code rule}; 0 turns it off.
     *
     * @throws RetentionPolicyException when {@code n} is negative
     */
    public Builder keep(RetentionRule rule, int n) {
      Objects.requireNonNull(rule, "rule");
      if (n < 0) {
        throw RetentionPolicyException.negativeCount(rule, n);
      }
      if (n == 0) {
        counts.remove(rule);
      } else {
        counts.put(rule, n);
      }
      return this;
    }

    /** The zone the calendar rules read creation times in. */
    public Builder zone(ZoneId zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /**
     * The policy.
     *
     * @throws RetentionPolicyException when no rule keeps anything (every count zero)
     */
    public RetentionPolicy build() {
      if (counts.isEmpty()) {
        throw RetentionPolicyException.noRule();
      }
      return new RetentionPolicy(counts, zone);
    }
  }
}
