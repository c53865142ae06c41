package io.mpcsfaas.worker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How long each function's tasks usually run, learned from the tasks that ended. The pool queues a task in
 * the pipe of a busy interpreter only behind a task that will end soon (within {@link #LEAD_NANOS}): then the
 * interpreter starts it the moment it is free, without waiting for a round trip to Redis. Behind any other
 * task it could wait while another interpreter frees up first. A function counts as predictable only after
 * a few runs of steady length, and a task that has run past its usual time is no longer expected to end
 * soon. Used on one context.
 */
final class RunTimes {
  /** How far ahead of a task's expected end the next one is handed over: a few round trips to Redis. */
  private static final long LEAD_NANOS = 3_000_000;
  /** Timers tick in milliseconds: a task this close to the lead already counts as ending soon. */
  static final long TIMER_TICK_NANOS = 1_000_000;
  private static final int MIN_SAMPLES = 3;
  private static final int MAX_FUNCTIONS = 4096;
  /** Heavy, so that a function's first, cold run (unpickling it, a fresh interpreter) is soon forgotten. */
  private static final double WEIGHT_OF_NEWEST = 0.5;

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

  /** Whether a task of {@code functionId} that has run {@code runningNanos} so far will likely end soon. */
  boolean endsSoon(String functionId, long runningNanos) {
    long until = untilEndsSoon(functionId, runningNanos);
    return until >= 0 && until <= TIMER_TICK_NANOS;
  }

  /**
   * Nanoseconds until a task of {@code functionId} that has run {@code runningNanos} will likely end soon:
   * 0 when it already will, -1 when that cannot be told (a function not seen running steadily, or a task
   * running past its usual time).
   */
  long untilEndsSoon(String functionId, long runningNanos) {
    Learned l = learned.get(functionId);
    if (l == null || l.samples() < MIN_SAMPLES || l.deviationNanos() > Math.max(LEAD_NANOS / 2, l.averageNanos() / 4)
        || runningNanos > l.averageNanos() + LEAD_NANOS) {
      return -1;
    }
    return Math.max(0, (long) (l.averageNanos() - LEAD_NANOS) - runningNanos);
  }
}
