package io.mpcsfaas.worker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How long each function's tasks usually run, learned from the tasks that ended. The pool plans with it:
 * it queues tasks in the pipe of a busy interpreter only while what is ahead of them will likely end within
 * the lookahead, so that the interpreter starts each one the moment it is free, without a round trip to its
 * dispatcher, and no task waits long behind another. A function counts as predictable only after a few runs
 * of steady length. Used on one context.
 */
final class RunTimes {
  private static final int MIN_SAMPLES = 3;
  private static final int MAX_FUNCTIONS = 4096;
  /** Heavy, so that a function's first, cold run (unpickling it, a fresh interpreter) is soon forgotten. */
  private static final double WEIGHT_OF_NEWEST = 0.5;
  /** Run times that vary by less than this (or a quarter of their length) still count as steady. */
  private static final long STEADY_WITHIN_NANOS = 1_500_000;

  /** Moving average and moving mean absolute deviation of the run time. */
  private record Learned(double averageNanos, double deviationNanos, int samples) {}

  private final Map<String, Learned> learned = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Learned> eldest) {
      return size() > MAX_FUNCTIONS;
    }
  };

  void record(String functionId, long nanos) {
    Learned l = learned.get(functionId);
    learned.put(functionId, l == null ? new Learned(nanos, 0, 1) : new Learned(
        l.averageNanos() + WEIGHT_OF_NEWEST * (nanos - l.averageNanos()),
        l.deviationNanos() + WEIGHT_OF_NEWEST * (Math.abs(nanos - l.averageNanos()) - l.deviationNanos()),
        Math.min(MIN_SAMPLES, l.samples() + 1)));
  }

  /**
   * The usual run time of {@code functionId}'s tasks, or -1 when it cannot be planned with: a function not
   * seen often enough, or one whose run time varies.
   */
  long expectedNanos(String functionId) {
    Learned l = learned.get(functionId);
    if (l == null || l.samples() < MIN_SAMPLES
        || l.deviationNanos() > Math.max(STEADY_WITHIN_NANOS, l.averageNanos() / 4)) {
      return -1;
    }
    return (long) l.averageNanos();
  }
}
