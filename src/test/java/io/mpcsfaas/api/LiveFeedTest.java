package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The dashboard's routes: the page without the key, and the live feed (GET /events) against tasks really run. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LiveFeedTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  final List<String> deployments = new ArrayList<>();
  HttpClient client;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.checking();
  }

  @AfterEach
  void cleanUp() {
    if (client != null) {
      await(client.close());
    }
    deployments.forEach(shared::undeploy);
  }

  @Test
  void theFeedCarriesTotalsRatesLatencyAndFunctionFigures() {
    int port = deployApi(new JsonObject());
    deployments.add(shared.deploy(new DispatcherVerticle(), new JsonObject().put("redis.url", shared.server().url())
        .put("redis.prefix", keys.prefix()).put("mode", "local").put("workers", 1)));
    List<JsonObject> events = listen(port, "/events", null);
    TestRedis.eventually(Duration.ofSeconds(10), "a first event", () -> !events.isEmpty());

    WebClient http = shared.webClient(port);
    String fid = await(http.post("/register_function").sendJsonObject(new JsonObject().put("name", "check")
        .put("payload", payloads.getString("fn")))).bodyAsJsonObject().getString("function_id");
    JsonArray batch = new JsonArray().add(payloads.getString("ok")).add(payloads.getString("ok"))
        .add(payloads.getString("ok")).add(payloads.getString("bad"));
    JsonArray ids = await(http.post("/execute_function/batch").sendJsonObject(new JsonObject()
        .put("function_id", fid).put("payloads", batch))).bodyAsJsonObject().getJsonArray("task_ids");
    await(http.post("/results").sendJsonObject(new JsonObject().put("task_ids", ids).put("wait", 30)));
    http.close();

    TestRedis.eventually(Duration.ofSeconds(10), "an event with the 4 tasks and their function", () -> {
      JsonObject totals = lastGathered(events).getJsonObject("totals");
      JsonArray functions = lastGathered(events).getJsonArray("functions");
      return totals.getLong("completed") == 3 && totals.getLong("failed") == 1 && functions.size() == 1
          && functions.getJsonObject(0).getLong("calls") == 4;
    });
    JsonObject last = lastGathered(events);
    JsonObject function = last.getJsonArray("functions").getJsonObject(0);
    assertEquals("check", function.getString("name"));
    assertEquals(1, function.getLong("failures"));
    assertTrue(function.getDouble("mean_run") >= 0 && function.getDouble("p99_run") > 0, function.encode());
    assertEquals("ok", last.getJsonObject("health").getString("redis"));
    assertEquals(1, last.getJsonArray("workers").size(), last.encode());
    // Rates and percentiles are deltas between gathers: the tasks show in those of some event (the latency
    // histograms arrive with the dispatcher's next flush, within a second).
    TestRedis.eventually(Duration.ofSeconds(10), "rates and latency of the tasks in the events", () -> {
      double completed = 0;
      double failed = 0;
      boolean latency = false;
      for (JsonObject event : events) {
        if (event.getJsonObject("rates") != null) { // null in the first event and in one of a failed gather
          double seconds = 1; // about a second between gathers; the sum of rate x 1 s is near the count
          completed += event.getJsonObject("rates").getDouble("completed") * seconds;
          failed += event.getJsonObject("rates").getDouble("failed") * seconds;
          latency |= event.getJsonObject("latency").getDouble("p99") != null;
        }
      }
      return completed > 0 && failed > 0 && latency;
    });
  }

  @Test
  void withAKeyThePageLoadsWithoutItAndTheFeedTakesItAsAHeaderOrAQueryParameter() {
    String key = "k3y-" + TestRedis.randomTag();
    int port = deployApi(new JsonObject().put("api.key", key));
    WebClient http = shared.webClient(port);
    try {
      var page = await(http.get("/").send());
      assertEquals(200, page.statusCode());
      assertTrue(page.bodyAsString().contains("data-testid=\"completed-total\""));
      assertEquals("window.FAAS_KEY_REQUIRED = true;\n", await(http.get("/ui/settings.js").send()).bodyAsString());
      assertEquals(200, await(http.get("/ui/dashboard.js").send()).statusCode());
      assertEquals(200, await(http.get("/ui/uplot/uPlot.iife.min.js").send()).statusCode());

      assertEquals(401, status(port, "/events", null));
      assertEquals(401, status(port, "/events?key=wrong", null));
      assertEquals(401, status(port, "/events", "Bearer wrong"));
      assertEquals(200, status(port, "/events?key=" + key, null));
      assertEquals(200, status(port, "/events", "Bearer " + key));
      assertEquals(401, await(http.get("/tasks?key=" + key).send()).statusCode(), "?key= is for the feed only");
    } finally {
      http.close();
    }
  }

  /** The newest event of a gather that succeeded (one whose Redis read timed out on a busy machine says so). */
  private static JsonObject lastGathered(List<JsonObject> events) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (events.get(i).containsKey("totals")) {
        return events.get(i);
      }
    }
    return new JsonObject().put("totals", new JsonObject().put("completed", 0L).put("failed", 0L))
        .put("functions", new JsonArray());
  }

  private int deployApi(JsonObject extra) {
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix()).mergeIn(extra));
    deployments.add(api.deploymentId());
    return api.port();
  }

  /** Opens the stream; the returned list fills with its events as they arrive. */
  private List<JsonObject> listen(int port, String path, String authorization) {
    HttpClientResponse response = open(port, path, authorization);
    assertEquals(200, response.statusCode());
    assertTrue(response.getHeader("content-type").startsWith("text/event-stream"));
    return ServerSentEvents.collect(response);
  }

  private int status(int port, String path, String authorization) {
    HttpClientResponse response = open(port, path, authorization);
    response.request().reset();
    return response.statusCode();
  }

  private HttpClientResponse open(int port, String path, String authorization) {
    if (client == null) {
      client = shared.vertx().createHttpClient();
    }
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI(path);
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    return await(client.request(options).compose(request -> request.send()));
  }
}
