package org.tidemark.retention;

import java.util.Optional;

/**
 * A retention policy was refused: a keep rule's count out of its range, or no rule keeping
 * anything. The fields say which rule ({@link #rule()}; empty when the policy as a whole has
 * none), the value given ({@link #value()}) and the range allowed ({@link #minimum()} to {@link
 * #maximum()}), so that a caller words it in its own terms (a command line's flag names).
 */
public final class RetentionPolicyException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final RetentionRule rule;
  private final int value;
  private final int minimum;
  private final int maximum;

  private RetentionPolicyException(RetentionRule rule, int value, int minimum, int maximum, String message) {
    super(message);
    this.rule = rule;
    this.value = value;
    this.minimum = minimum;
    this.maximum = maximum;
  }

  /** {@code rule}'s count {@code value} is below 0. */
  static RetentionPolicyException negativeCount(RetentionRule rule, int value) {
    return new RetentionPolicyException(rule, value, 0, Integer.MAX_VALUE,
        rule.option() + ": " + value + " (expected a count of 0 or more)");
  }

  /** Every rule's count is 0: the policy would keep nothing. */
  static RetentionPolicyException noRule() {
    StringBuilder rules = new StringBuilder();
    for (RetentionRule r : RetentionRule.values()) {
      rules.append(rules.length() == 0 ? "" : ", ").append(r.option());
    }
    return new RetentionPolicyException(null, 0, 1, Integer.MAX_VALUE, "a retention policy needs at least one keep"
        + " rule with a count above 0 (" + rules + "): without one it would remove every backup");
  }

  /** The rule whose count is out of range; empty when no rule has a count above 0. */
  public Optional<RetentionRule> rule() {
    return Optional.ofNullable(rule);
  }

  /** The count given: the rule's, or 0 (the highest of all counts) when there is no rule. */
  public int value() {
    return value;
  }

  /** The lowest count allowed: 0 for a rule's count, 1 for the highest count of a policy. */
  public int minimum() {
    return minimum;
  }

  /** The highest count allowed ({@link Integer#MAX_VALUE}: no limit). */
  public int maximum() {
    return maximum;
  }
}
