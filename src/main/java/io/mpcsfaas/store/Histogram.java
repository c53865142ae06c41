package io.mpcsfaas.store;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One histogram as the stats hashes keep it: a count per bucket in fields {@code name:bound} (not cumulative,
 * the last bound {@code +Inf}) and the observations' total in {@code name:sum}.
 *
 * @param buckets count per upper bound, ascending, the unbounded one as {@link Double#POSITIVE_INFINITY}
 * @param sum total of the observations
 */
public record Histogram(NavigableMap<Double, Double> buckets, double sum) {

  /** Histogram {@code name} from a stats hash's fields. */
  public static Histogram of(Map<String, Double> fields, String name) {
    String prefix = name + ":";
    NavigableMap<Double, Double> buckets = new TreeMap<>();
    fields.forEach((field, value) -> {
      if (field.startsWith(prefix) && !field.endsWith(":sum") && !field.endsWith(":count")) {
        String bound = field.substring(prefix.length());
        buckets.merge(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound), value, Double::sum);
      }
    });
    return new Histogram(buckets, fields.getOrDefault(prefix + "sum", 0.0));
  }

  /** Observations counted in the buckets. */
  public double count() {
    return buckets.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  /** The observations made since {@code earlier}, a read of the same histogram. */
  public Histogram minus(Histogram earlier) {
    NavigableMap<Double, Double> delta = new TreeMap<>();
    buckets.forEach((bound, n) -> delta.put(bound, n - earlier.buckets.getOrDefault(bound, 0.0)));
    return new Histogram(delta, sum - earlier.sum);
  }

  /** Mean of the observations; null when there are none. */
  public Double mean() {
    double count = count();
    return count > 0 ? sum / count : null;
  }

  /**
   * The {@code q} quantile (0 to 1), interpolated linearly inside its bucket as Prometheus's
   * {@code histogram_quantile} does (the unbounded bucket answers its lower bound); null when empty.
   */
  public Double quantile(double q) {
    double count = count();
    if (count <= 0) {
      return null;
    }
    double rank = q * count;
    double below = 0;
    double lower = 0;
    for (Map.Entry<Double, Double> bucket : buckets.entrySet()) {
      double n = bucket.getValue();
      if (n > 0 && below + n >= rank) {
        return bucket.getKey().isInfinite() ? lower : lower + (bucket.getKey() - lower) * (rank - below) / n;
      }
      below += n;
      lower = bucket.getKey().isInfinite() ? lower : bucket.getKey();
    }
    return lower;
  }
}
