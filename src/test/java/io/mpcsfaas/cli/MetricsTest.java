package io.mpcsfaas.cli;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.TestRedis;
import io.mpcsfaas.api.ApiVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.redis.client.Command;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** /metrics of an API on the Vert.x the CLI builds: the platform's series, then the JVM's and Vert.x's own. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MetricsTest {

  @Test
  void metricsAddTheJvmHttpServerAndEventLoopSeriesAfterThePlatformOnes() throws Exception {
    try (TestRedis redis = TestRedis.start(Files.createTempDirectory("mpcsfaas-test-redis-"), false)) {
      Vertx vertx = Metrics.vertx(new VertxOptions()).build();
      try {
        // The queue's consumer group, which a dispatcher would create: /metrics reads its pending count.
        TestRedis.cmd(redis.client(vertx), Command.XGROUP, "CREATE", "faas:queue", "dispatchers", "$", "MKSTREAM");
        ApiVerticle api = new ApiVerticle();
        JsonObject conf = new JsonObject().put("redis.url", redis.url()).put("api.port", 0);
        await(vertx.deployVerticle(api, new DeploymentOptions().setConfig(conf)));
        HttpClient http = vertx.createHttpClient();
        get(http, api.port(), "/health");
        String text = get(http, api.port(), "/metrics");
        assertTrue(text.startsWith("# HELP faas_tasks_submitted_total"), "the platform's series come first: " + text);
        for (String series : new String[] {"jvm_memory_used_bytes{", "vertx_http_server_requests_total{",
            "netty_eventexecutor_tasks_pending{name=\"vert.x-eventloop-thread-"}) {
          assertTrue(text.contains("\n" + series), series + " missing from /metrics");
        }
        assertTrue(text.contains("vertx_http_server_requests_total{code=\"503\",method=\"GET\"}")
            || text.contains("vertx_http_server_requests_total{code=\"200\",method=\"GET\"}"),
            "the /health request is counted");
      } finally {
        await(vertx.close());
      }
      assertNull(BackendRegistries.getDefaultNow(), "a closed Vert.x leaves no registry for other APIs to scrape");
    }
  }

  private static String get(HttpClient http, int port, String path) {
    return await(http.request(HttpMethod.GET, port, "127.0.0.1", path)
        .compose(request -> request.send()).compose(HttpClientResponse::body)).toString();
  }
}
