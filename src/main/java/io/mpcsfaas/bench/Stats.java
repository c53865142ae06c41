package io.mpcsfaas.bench;

import java.util.Arrays;

/** Percentiles of a set of durations in milliseconds. */
final class Stats {
  private final double[] sorted;

  Stats(double[] values) {
    this.sorted = values.clone();
    Arrays.sort(sorted);
  }

  double percentile(double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  double max() {
    return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
  }

  double mean() {
    return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN);
  }
}
