package io.mpcsfaas.worker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How long each function's tasks usually run, learned from the tasks that ended. The pool queues a task in
 * the pipe of a busy interpreter only behind a task that will end soon: behind a slow one it would wait
 * while another interpreter may free up first. A function never seen counts as slow. Used on one context.
 */
final class RunTimes {
  /** Behind a task expected to run longer, the round trip that pipelining saves no longer matters. */
  private static final long QUICK_NANOS = 5_000_000;
  private static final int MAX_FUNCTIONS = 4096;
  private static final double WEIGHT_OF_NEWEST = 0.25;

  private final Map<String, Double> averageNanos = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Double> eldest) {
      return size() > MAX_FUNCTIONS;
    }
  };

  void record(String functionId, long nanos) {
    Double average = averageNanos.get(functionId);
    averageNanos.put(functionId, average == null ? nanos : average + WEIGHT_OF_NEWEST * (nanos - average));
  }

  /** Whether a task of {@code functionId} that has run {@code runningNanos} so far will likely end soon. */
  boolean endsSoon(String functionId, long runningNanos) {
    Double average = averageNanos.get(functionId);
    return average != null && average < QUICK_NANOS && runningNanos < QUICK_NANOS;
  }
}
