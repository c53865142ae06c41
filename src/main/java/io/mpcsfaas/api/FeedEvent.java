package io.mpcsfaas.api;

import io.mpcsfaas.store.FunctionStats;
import io.mpcsfaas.store.Histogram;
import io.mpcsfaas.store.PlatformStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One event of the live feed, built from two successive gathers: totals, rates and latency percentiles of the
 * tasks that ended in between (from counter and histogram deltas), workers and per-function figures. Rates,
 * never rows: its size does not grow with the task rate.
 */
final class FeedEvent {
  private FeedEvent() {}

  /**
   * {@code previous}: the gather before, {@code elapsedSeconds} ago, or null for the first one (then rates and
   * latency are null); {@code now}: seconds since the epoch.
   */
  static JsonObject of(double now, PlatformStats stats, PlatformStats previous, double elapsedSeconds,
      List<JsonObject> dispatchers, List<FunctionStats> functions) {
    JsonArray names = new JsonArray();
    JsonArray workers = new JsonArray();
    for (JsonObject dispatcher : dispatchers) {
      names.add(dispatcher.getString("name"));
      for (Object w : dispatcher.getJsonArray("workers", new JsonArray())) {
        JsonObject worker = (JsonObject) w;
        Double beat = worker.getDouble("last_heartbeat");
        workers.add(new JsonObject().put("id", worker.getString("id")).put("mode", worker.getString("mode"))
            .put("slots", worker.getInteger("slots", 0)).put("busy", worker.getInteger("busy", 0))
            .put("heartbeat_age", beat == null ? null : Math.max(0, Math.round((now - beat) * 1000) / 1000.0))
            .put("dispatcher", dispatcher.getString("name")));
      }
    }
    JsonObject rates = null;
    JsonObject latency = null;
    if (previous != null && elapsedSeconds > 0) {
      rates = new JsonObject()
          .put("completed", rate(stats, previous, "completed", elapsedSeconds))
          .put("failed", rate(stats, previous, "failed", elapsedSeconds));
      Histogram ended = Histogram.of(stats.counters(), "latency").minus(Histogram.of(previous.counters(), "latency"));
      latency = new JsonObject().put("p50", ended.quantile(0.5)).put("p99", ended.quantile(0.99));
    }
    JsonArray perFunction = new JsonArray();
    for (FunctionStats f : functions) {
      perFunction.add(new JsonObject().put("function_id", f.functionId()).put("name", f.name())
          .put("calls", f.calls()).put("failures", f.failures())
          .put("mean_run", f.run().mean()).put("p99_run", f.run().quantile(0.99)));
    }
    return new JsonObject().put("at", now)
        .put("health", new JsonObject().put("redis", "ok").put("dispatchers", names))
        .put("totals", new JsonObject().put("submitted", (long) stats.counter("submitted"))
            .put("completed", (long) stats.counter("completed")).put("failed", (long) stats.counter("failed"))
            .put("queued", stats.queued()).put("in_flight", stats.claimed()))
        .put("rates", rates).put("latency", latency).put("workers", workers).put("functions", perFunction);
  }

  /** The event of a gather that failed: Redis did not answer. */
  static JsonObject unavailable(double now, Throwable cause) {
    return new JsonObject().put("at", now).put("health", new JsonObject().put("redis", "unavailable")
        .put("error", String.valueOf(cause.getMessage())));
  }

  private static double rate(PlatformStats stats, PlatformStats previous, String counter, double seconds) {
    return Math.max(0, stats.counter(counter) - previous.counter(counter)) / seconds;
  }
}
