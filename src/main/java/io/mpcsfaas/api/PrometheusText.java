package io.mpcsfaas.api;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mpcsfaas.store.Histogram;
import io.mpcsfaas.store.PlatformStats;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Renders the platform's figures in the Prometheus text exposition format (version 0.0.4), followed by this
 * process's own Vert.x series (JVM, HTTP server, event loops) when Micrometer metrics are on.
 */
final class PrometheusText {
  private static final Map<String, String> HISTOGRAMS = Map.of(
      "queue_wait", "Time from submission to the start of the run.",
      "run", "Time from the start of the run to the stored result.",
      "latency", "Time from submission to the stored result.");

  private final StringBuilder out = new StringBuilder();

  private PrometheusText() {}

  static String render(PlatformStats stats, List<JsonObject> dispatchers) {
    PrometheusText text = new PrometheusText();
    text.single("faas_tasks_submitted_total", "counter", "Tasks submitted.", stats.counter("submitted"));
    text.single("faas_tasks_completed_total", "counter", "Tasks that ended COMPLETED.", stats.counter("completed"));
    text.single("faas_tasks_failed_total", "counter", "Tasks that ended FAILED.", stats.counter("failed"));
    text.single("faas_queue_depth", "gauge", "Tasks waiting for a dispatcher.", stats.queued());
    text.single("faas_tasks_in_flight", "gauge", "Tasks claimed by a dispatcher and not ended.", stats.claimed());
    text.header("faas_environment_queue_depth", "gauge", "Tasks waiting for a dispatcher, by environment.");
    stats.queuedByEnv().forEach((env, queued) ->
        text.sample("faas_environment_queue_depth", "{env=\"" + env + "\"}", queued));
    HISTOGRAMS.forEach((name, help) -> text.histogram(name, help, stats));
    text.workers(dispatchers);
    return text.out.append(vertxSeries()).toString();
  }

  /** The scrape of the default Micrometer registry: the CLI's Vert.x fills it; tests and the Vert.x launcher leave it off. */
  private static String vertxSeries() {
    return BackendRegistries.getDefaultNow() instanceof PrometheusMeterRegistry registry ? registry.scrape() : "";
  }

  private void single(String name, String type, String help, double value) {
    header(name, type, help);
    sample(name, "", value);
  }

  private void histogram(String name, String help, PlatformStats stats) {
    String metric = "faas_task_" + name + "_seconds";
    header(metric, "histogram", help);
    double cumulative = 0;
    for (Map.Entry<Double, Double> bucket : Histogram.of(stats.counters(), name).buckets().entrySet()) {
      if (bucket.getKey().isInfinite()) {
        continue;
      }
      cumulative += bucket.getValue();
      sample(metric + "_bucket", "{le=\"" + format(bucket.getKey()) + "\"}", cumulative);
    }
    double count = stats.counter(name + ":count");
    sample(metric + "_bucket", "{le=\"+Inf\"}", count);
    sample(metric + "_sum", "", stats.counter(name + ":sum"));
    sample(metric + "_count", "", count);
  }

  private void workers(List<JsonObject> dispatchers) {
    header("faas_worker_slots", "gauge", "Interpreter slots of each live worker.");
    forEachWorker(dispatchers, "slots");
    header("faas_worker_busy", "gauge", "Busy slots of each live worker.");
    forEachWorker(dispatchers, "busy");
  }

  private void forEachWorker(List<JsonObject> dispatchers, String field) {
    for (JsonObject dispatcher : dispatchers) {
      for (Object w : dispatcher.getJsonArray("workers")) {
        JsonObject worker = (JsonObject) w;
        String labels = "{dispatcher=\"" + escape(dispatcher.getString("name")) + "\",worker=\""
            + escape(worker.getString("id")) + "\",mode=\"" + escape(worker.getString("mode")) + "\"}";
        sample("faas_worker_" + field, labels, worker.getInteger(field, 0));
      }
    }
  }

  private void header(String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private void sample(String name, String labels, double value) {
    out.append(name).append(labels).append(' ').append(format(value)).append('\n');
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15 ? Long.toString((long) value)
        : String.format(Locale.ROOT, "%s", value);
  }

  private static String escape(String label) {
    return label == null ? "" : label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
