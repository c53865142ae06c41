package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The queue wait, run time and end-to-end latency histograms of {@code /metrics}, gathered in memory by a
 * dispatcher from the tasks it stored and added to the stats hash in one batch per {@link #flush}, instead
 * of nine hash updates inside every finish call. Fields: "name:bound" per bucket (not cumulative), plus
 * "name:sum" and "name:count". A dispatcher that dies loses what it had not flushed (a second's worth);
 * a flush that fails is added back and sent with the next. Thread-safe.
 */
final class TaskHistograms {
  private static final String[] NAMES = {"queue_wait", "run", "latency"};
  /** Bucket upper bounds as they appear in the field names (as the earlier Lua scripts wrote them). */
  private static final String[] LABELS = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
      "0.5", "1", "2.5", "5", "10", "30", "60", "300", "+Inf"};
  private static final double[] BOUNDS = Arrays.stream(LABELS, 0, LABELS.length - 1)
      .mapToDouble(Double::parseDouble).toArray();

  /** Per histogram: the count in each bucket, the last one unbounded. */
  private long[][] buckets = new long[NAMES.length][LABELS.length];
  private double[] sums = new double[NAMES.length];

  /** Records one task from its timestamps, in seconds since the epoch. */
  synchronized void observe(double created, double started, double finished) {
    add(0, Math.max(0, started - created));
    add(1, Math.max(0, finished - started));
    add(2, Math.max(0, finished - created));
  }

  private void add(int histogram, double seconds) {
    int bucket = 0;
    while (bucket < BOUNDS.length && seconds > BOUNDS[bucket]) {
      bucket++;
    }
    buckets[histogram][bucket]++;
    sums[histogram] += seconds;
  }

  /** Adds what was gathered since the last flush to {@code statsKey}, in one round trip. */
  Future<Void> flush(Redis redis, String statsKey) {
    long[][] taken;
    double[] takenSums;
    synchronized (this) {
      taken = buckets;
      takenSums = sums;
      buckets = new long[NAMES.length][LABELS.length];
      sums = new double[NAMES.length];
    }
    List<Request> updates = new ArrayList<>();
    for (int h = 0; h < NAMES.length; h++) {
      long count = 0;
      for (int b = 0; b < LABELS.length; b++) {
        if (taken[h][b] > 0) {
          updates.add(Request.cmd(Command.HINCRBY).arg(statsKey).arg(NAMES[h] + ":" + LABELS[b]).arg(taken[h][b]));
          count += taken[h][b];
        }
      }
      if (count > 0) {
        updates.add(Request.cmd(Command.HINCRBY).arg(statsKey).arg(NAMES[h] + ":count").arg(count));
        updates.add(Request.cmd(Command.HINCRBYFLOAT).arg(statsKey).arg(NAMES[h] + ":sum")
            .arg(Double.toString(takenSums[h])));
      }
    }
    if (updates.isEmpty()) {
      return Future.succeededFuture();
    }
    // One transaction: a flush that fails was applied entirely or not at all, so adding it back is exact.
    updates.add(0, Request.cmd(Command.MULTI));
    updates.add(Request.cmd(Command.EXEC));
    return redis.batch(updates).<Void>mapEmpty().onFailure(err -> addBack(taken, takenSums));
  }

  private synchronized void addBack(long[][] taken, double[] takenSums) {
    for (int h = 0; h < NAMES.length; h++) {
      for (int b = 0; b < LABELS.length; b++) {
        buckets[h][b] += taken[h][b];
      }
      sums[h] += takenSums[h];
    }
  }
}
