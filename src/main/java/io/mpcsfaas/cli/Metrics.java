package io.mpcsfaas.cli;

import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;

/**
 * A Vert.x whose Micrometer metrics (JVM, HTTP server, Netty event loops, pools) gather in the default
 * Prometheus registry, which the API's {@code /metrics} appends to the platform's own series.
 */
final class Metrics {
  private Metrics() {}

  static VertxBuilder vertx(VertxOptions options) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setNettyMetricsEnabled(true).setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true))
        // The Redis clients and their connections: each client registers the same gauges again, which
        // Micrometer ignores with a warning, so the figures would be of one client picked at random.
        .addDisabledMetricsCategory(MetricsDomain.NET_CLIENT).addDisabledMetricsCategory("redis");
    return Vertx.builder().with(options.setMetricsOptions(metrics)).withMetrics(new MicrometerMetricsFactory());
  }
}
