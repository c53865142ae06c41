package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The OpenAPI document against the real router, and the Prometheus figures against tasks really run. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ObservabilityTest {
  private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+(?:\\{[^}]*})?) (\\S+)$", Pattern.MULTILINE);

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static WebClient http;
  static ApiVerticle api;
  static JsonObject payloads;

  @BeforeAll
  static void start() throws Exception {
    JsonObject conf = new JsonObject().put("redis.url", shared.server().url()).put("api.port", 0)
        .put("mode", "local").put("workers", 1);
    api = new ApiVerticle();
    shared.deploy(api, conf);
    shared.deploy(new DispatcherVerticle(), conf);
    http = WebClient.create(shared.vertx());
    payloads = Py.checking();
  }

  @Test
  void everyRouteIsInTheOpenApiDocumentAndNothingElse() {
    JsonObject paths = get("/openapi.json").getJsonObject("paths");
    Map<String, Set<String>> routed = new HashMap<>();
    for (Route route : api.router().getRoutes()) {
      if (route.getPath() == null) {
        continue; // handlers for every path: body, API key, failures
      }
      String path = route.getPath().replaceAll(":([a-z_]+)", "{$1}");
      // Swagger UI's own files are the /docs page, the dashboard's (under /ui/) the page at /
      String documented = path.startsWith("/docs") ? "/docs" : path.startsWith("/ui/") ? "/" : path;
      Set<String> methods = routed.computeIfAbsent(documented, p -> new TreeSet<>());
      route.methods().forEach(m -> methods.add(m.name().toLowerCase()));
    }
    assertEquals(new TreeSet<>(routed.keySet()), new TreeSet<>(paths.fieldNames()),
        "routes and documented paths differ");
    routed.forEach((path, methods) -> assertEquals(methods, new TreeSet<>(paths.getJsonObject(path).fieldNames()),
        "methods of " + path));
  }

  @Test
  void metricsCountExactlyTheTasksRun() {
    Map<String, Double> before = metrics();
    String fid = post("/register_function", new JsonObject().put("name", "check").put("payload", payloads.getString("fn")))
        .getString("function_id");
    JsonArray batch = new JsonArray();
    for (int i = 0; i < 5; i++) {
      batch.add(payloads.getString("ok"));
    }
    batch.add(payloads.getString("bad")).add(payloads.getString("bad"));
    JsonArray ids = post("/execute_function/batch", new JsonObject().put("function_id", fid).put("payloads", batch))
        .getJsonArray("task_ids");
    JsonArray results = post("/results", new JsonObject().put("task_ids", ids).put("wait", 30)).getJsonArray("results");
    results.forEach(r -> assertTrue(Set.of("COMPLETED", "FAILED").contains(((JsonObject) r).getString("status"))));

    Map<String, Double> after = metrics();
    assertEquals(7, delta(before, after, "faas_tasks_submitted_total"));
    assertEquals(5, delta(before, after, "faas_tasks_completed_total"));
    assertEquals(2, delta(before, after, "faas_tasks_failed_total"));
    // The dispatcher adds the histograms once a second.
    TestRedis.eventually(Duration.ofSeconds(5), "the latency histograms counting the 7 tasks", () -> {
      Map<String, Double> flushed = metrics();
      return List.of("queue_wait", "run", "latency").stream().map(h -> "faas_task_" + h + "_seconds")
          .allMatch(name -> delta(before, flushed, name + "_count") == 7
              && delta(before, flushed, name + "_bucket{le=\"+Inf\"}") == 7
              && delta(before, flushed, name + "_sum") > 0);
    });
    assertEquals(0, after.get("faas_queue_depth"));
    TestRedis.eventually(Duration.ofSeconds(5), "the worker's slots in /metrics",
        () -> metrics().keySet().stream().anyMatch(k -> k.startsWith("faas_worker_slots{")));
  }

  @Test
  void statsReportTheQueueAndTheDispatcher() {
    JsonObject stats = get("/stats");
    assertTrue(stats.getLong("submitted") >= 0);
    TestRedis.eventually(Duration.ofSeconds(5), "a live dispatcher in /stats",
        () -> get("/stats").getJsonArray("dispatchers").size() == 1);
  }

  private static double delta(Map<String, Double> before, Map<String, Double> after, String sample) {
    return after.getOrDefault(sample, 0.0) - before.getOrDefault(sample, 0.0);
  }

  private static Map<String, Double> metrics() {
    var response = await(http.get(api.port(), "127.0.0.1", "/metrics").send());
    assertEquals(200, response.statusCode());
    assertTrue(response.getHeader("content-type").startsWith("text/plain"));
    Map<String, Double> samples = new HashMap<>();
    Matcher m = SAMPLE.matcher(response.bodyAsString());
    while (m.find()) {
      samples.put(m.group(1), Double.valueOf(m.group(2)));
    }
    return samples;
  }

  private static JsonObject get(String path) {
    var response = await(http.get(api.port(), "127.0.0.1", path).send());
    assertEquals(200, response.statusCode(), path + ": " + response.bodyAsString());
    return response.bodyAsJsonObject();
  }

  private static JsonObject post(String path, JsonObject body) {
    var response = await(http.request(HttpMethod.POST, api.port(), "127.0.0.1", path).sendJsonObject(body));
    assertTrue(response.statusCode() / 100 == 2, path + ": " + response.statusCode() + " " + response.bodyAsString());
    return response.bodyAsJsonObject();
  }
}
