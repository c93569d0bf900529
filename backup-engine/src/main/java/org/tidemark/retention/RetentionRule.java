package org.tidemark.retention;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.IsoFields;

/**
 * One kind of keep rule: how it puts a point into a bucket. Each rule keeps the newest point of
 * each of its newest N buckets (restic's and borg's meaning); {@link #LAST} puts every point in a
 * bucket of its own, so it keeps the N newest points.
 */
public enum RetentionRule {
  /** The newest points, whatever their time. */
  LAST("keep-last"),
  /** The newest point of each hour (local time in the policy's zone). */
  HOURLY("keep-hourly"),
  /** The newest point of each day. */
  DAILY("keep-daily"),
  /** The newest point of each ISO week (Monday to Sunday, weeks numbered in the ISO week-based year). */
  WEEKLY("keep-weekly"),
  /** The newest point of each calendar month. */
  MONTHLY("keep-monthly"),
  /** The newest point of each calendar year. */
  YEARLY("keep-yearly");

  private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH");

  private final String option;

  RetentionRule(String option) {
    this.option = option;
  }

  /** The rule's name as the command line spells it ({@code keep-daily}). */
  public String option() {
    return option;
  }

  /**
   * The bucket of a point: points with equal buckets share one; the bucket is also the label a
   * reason shows ({@code 2026-12-04}, {@code 2026-W49}).
   *
   * @param time the point's creation time in the policy's zone
   * @param rank the point's place among the points, newest first, from 1 (the bucket of {@link #LAST})
   */
  public String bucket(ZonedDateTime time, int rank) {
    return switch (this) {
      case LAST -> "newest #" + rank;
      case HOURLY -> HOUR.format(time);
      case DAILY -> time.toLocalDate().toString();
      case WEEKLY -> String.format("%d-W%02d", time.get(IsoFields.WEEK_BASED_YEAR),
          time.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR));
      case MONTHLY -> String.format("%d-%02d", time.getYear(), time.getMonthValue());
      case YEARLY -> Integer.toString(time.getYear());
    };
  }
}
