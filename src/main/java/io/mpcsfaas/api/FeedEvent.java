package io.mpcsfaas.api;

import io.mpcsfaas.store.FunctionStats;
import io.mpcsfaas.store.Histogram;
import io.mpcsfaas.store.PlatformStats;
import io.mpcsfaas.store.TenantStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * One event of the live feed, built from two successive gathers: totals, rates and latency percentiles of the
 * tasks that ended in between (from counter and histogram deltas), workers and per-function figures. Rates,
 * never rows: its size does not grow with the task rate. An admin's event holds the platform's figures; a
 * tenant's its own totals, rates and functions, no workers, and no latency figures (the histograms are
 * platform-wide).
 */
final class FeedEvent {
  private FeedEvent() {}

  /**
   * The platform's event. {@code previous}: the gather before, {@code elapsedSeconds} ago, or null for the first
   * one (then rates and latency are null); {@code now}: seconds since the epoch.
   */
  static JsonObject of(double now, PlatformStats stats, PlatformStats previous, double elapsedSeconds,
      List<JsonObject> dispatchers, List<FunctionStats> functions) {
    JsonObject rates = null;
    JsonObject latency = null;
    if (previous != null && elapsedSeconds > 0) {
      rates = rates(stats.counter("completed") - previous.counter("completed"),
          stats.counter("failed") - previous.counter("failed"), elapsedSeconds);
      Histogram ended = Histogram.of(stats.counters(), "latency").minus(Histogram.of(previous.counters(), "latency"));
      latency = new JsonObject().put("p50", ended.quantile(0.5)).put("p99", ended.quantile(0.99));
    }
    JsonObject totals = totals((long) stats.counter("submitted"), (long) stats.counter("completed"),
        (long) stats.counter("failed"), stats.queued(), stats.claimed());
    return event(now, dispatchers, workers(now, dispatchers), totals, rates, latency, functions);
  }

  /**
   * One tenant's event, as {@link #of}: its in_flight is its tasks running, and its latency percentiles are
   * null (not kept per tenant) whenever the platform's event would have them.
   */
  static JsonObject of(double now, TenantStats stats, TenantStats previous, double elapsedSeconds,
      List<JsonObject> dispatchers, List<FunctionStats> functions) {
    JsonObject rates = null;
    JsonObject latency = null;
    if (previous != null && elapsedSeconds > 0) {
      rates = rates(stats.completed() - previous.completed(), stats.failed() - previous.failed(), elapsedSeconds);
      latency = new JsonObject().putNull("p50").putNull("p99");
    }
    JsonObject totals = totals(stats.submitted(), stats.completed(), stats.failed(), stats.queued(), stats.running());
    return event(now, dispatchers, new JsonArray(), totals, rates, latency, functions);
  }

  /** The event of a gather that failed: Redis did not answer. */
  static JsonObject unavailable(double now, Throwable cause) {
    return new JsonObject().put("at", now).put("health", new JsonObject().put("redis", "unavailable")
        .put("error", String.valueOf(cause.getMessage())));
  }

  private static JsonObject event(double now, List<JsonObject> dispatchers, JsonArray workers, JsonObject totals,
      JsonObject rates, JsonObject latency, List<FunctionStats> functions) {
    JsonArray names = new JsonArray();
    dispatchers.forEach(d -> names.add(d.getString("name")));
    JsonArray perFunction = new JsonArray();
    for (FunctionStats f : functions) {
      perFunction.add(new JsonObject().put("function_id", f.functionId()).put("name", f.name())
          .put("calls", f.calls()).put("failures", f.failures())
          .put("mean_run", f.run().mean()).put("p99_run", f.run().quantile(0.99)));
    }
    return new JsonObject().put("at", now)
        .put("health", new JsonObject().put("redis", "ok").put("dispatchers", names))
        .put("totals", totals).put("rates", rates).put("latency", latency).put("workers", workers)
        .put("functions", perFunction);
  }

  private static JsonArray workers(double now, List<JsonObject> dispatchers) {
    JsonArray workers = new JsonArray();
    for (JsonObject dispatcher : dispatchers) {
      for (Object w : dispatcher.getJsonArray("workers", new JsonArray())) {
        JsonObject worker = (JsonObject) w;
        Double beat = worker.getDouble("last_heartbeat");
        workers.add(new JsonObject().put("id", worker.getString("id")).put("mode", worker.getString("mode"))
            .put("slots", worker.getInteger("slots", 0)).put("busy", worker.getInteger("busy", 0))
            .put("heartbeat_age", beat == null ? null : Math.max(0, Math.round((now - beat) * 1000) / 1000.0))
            .put("dispatcher", dispatcher.getString("name")));
      }
    }
    return workers;
  }

  private static JsonObject totals(long submitted, long completed, long failed, long queued, long inFlight) {
    return new JsonObject().put("submitted", submitted).put("completed", completed).put("failed", failed)
        .put("queued", queued).put("in_flight", inFlight);
  }

  private static JsonObject rates(double completed, double failed, double seconds) {
    return new JsonObject().put("completed", Math.max(0, completed) / seconds)
        .put("failed", Math.max(0, failed) / seconds);
  }
}
