package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.api.JsonErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenants at the API, against a real Redis and no dispatcher (tasks stay queued unless a test plays the
 * dispatcher): alice (at most 2 tasks in flight) and bob are tenants, ops an admin, and the single --api-key an
 * admin of no tenant.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TenantRoutesTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;
  static final String ALICE = "alice-key";
  static final String BOB = "bob-key";
  static final String OPS = "ops-key";
  static final String SINGLE = "single-key";

  @TempDir
  Path dir;
  WebClient http;
  String deployment;
  int port;

  @BeforeAll
  static void makePayloads() {
    payloads = Py.payloads(String.join("\n", "out['fn'] = enc(lambda x: x * 2)", "out['args'] = enc(((1,), {}))"));
  }

  @BeforeEach
  void apiWithTenants() throws IOException {
    Path keysFile = Files.writeString(dir.resolve("keys.json"), """
        {"keys": [
          {"key": "alice-key", "tenant": "alice", "max_in_flight": 2},
          {"key": "bob-key", "tenant": "bob"},
          {"key": "ops-key", "tenant": "ops", "admin": true}
        ]}""");
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix())
        .put("api.keys_file", keysFile.toString()).put("api.key", SINGLE));
    deployment = api.deploymentId();
    port = api.port();
    http = shared.webClient(port);
  }

  @AfterEach
  void cleanUp() {
    shared.undeploy(deployment);
    http.close();
  }

  private HttpResponse<Buffer> call(String key, HttpMethod method, String path, JsonObject body) {
    HttpRequest<Buffer> request = http.request(method, path).timeout(10_000);
    if (key != null) {
      request.putHeader("Authorization", "Bearer " + key);
    }
    return await(body == null ? request.send() : request.sendJsonObject(body));
  }

  private HttpResponse<Buffer> get(String key, String path) {
    return call(key, HttpMethod.GET, path, null);
  }

  private HttpResponse<Buffer> post(String key, String path, JsonObject body) {
    return call(key, HttpMethod.POST, path, body);
  }

  private String registerAs(String key, String name) {
    HttpResponse<Buffer> response = post(key, "/register_function",
        new JsonObject().put("name", name).put("payload", payloads.getString("fn")));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("function_id");
  }

  private HttpResponse<Buffer> execute(String key, String fid) {
    return post(key, "/execute_function", new JsonObject().put("function_id", fid)
        .put("payload", payloads.getString("args")));
  }

  private String submit(String key, String fid) {
    HttpResponse<Buffer> response = execute(key, fid);
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  private HttpResponse<Buffer> batch(String key, String fid, int n) {
    JsonArray args = new JsonArray();
    for (int i = 0; i < n; i++) {
      args.add(payloads.getString("args"));
    }
    return post(key, "/execute_function/batch", new JsonObject().put("function_id", fid).put("payloads", args));
  }

  private Set<String> taskIds(String key, String query) {
    HttpResponse<Buffer> response = get(key, "/tasks" + query);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getJsonArray("tasks").stream()
        .map(t -> ((JsonObject) t).getString("task_id")).collect(Collectors.toSet());
  }

  private Set<String> functionIds(String key, String query) {
    HttpResponse<Buffer> response = get(key, "/functions" + query);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getJsonArray("functions").stream()
        .map(f -> ((JsonObject) f).getString("function_id")).collect(Collectors.toSet());
  }

  @Test
  void anotherTenantsFunctionOrTaskIsUnknownOnEveryRoute() {
    String fid = registerAs(ALICE, "double");
    String task = submit(ALICE, fid);
    JsonObject ids = new JsonObject().put("task_ids", new JsonArray().add(task));

    assertError("execute", 404, execute(BOB, fid));
    assertError("execute batch", 404, batch(BOB, fid, 2));
    assertError("status", 404, get(BOB, "/status/" + task));
    assertError("result", 404, get(BOB, "/result/" + task));
    assertError("result?wait", 404, get(BOB, "/result/" + task + "?wait=1"));
    assertError("output", 404, get(BOB, "/output/" + task));
    assertError("output?follow", 404, get(BOB, "/output/" + task + "?follow=true"));
    assertError("cancel", 404, post(BOB, "/cancel/" + task, null));
    assertError("function", 404, get(BOB, "/functions/" + fid));
    assertError("delete", 404, call(BOB, HttpMethod.DELETE, "/functions/" + fid, null));
    HttpResponse<Buffer> cancelMany = post(BOB, "/cancel", ids);
    assertEquals(new JsonObject().put("task_id", task).put("error", "task not found"),
        cancelMany.bodyAsJsonObject().getJsonArray("results").getJsonObject(0));
    HttpResponse<Buffer> results = post(BOB, "/results", ids);
    assertEquals(new JsonObject().put("task_id", task).put("error", "task not found"),
        results.bodyAsJsonObject().getJsonArray("results").getJsonObject(0));
    assertEquals(Set.of(), taskIds(BOB, "?function_id=" + fid), "another's function lists no task");

    assertEquals("QUEUED", get(ALICE, "/status/" + task).bodyAsJsonObject().getString("status"),
        "nothing bob tried touched it");
    assertEquals(200, get(ALICE, "/functions/" + fid).statusCode());
    assertEquals(200, get(ALICE, "/output/" + task).statusCode());
    assertEquals(task, post(ALICE, "/results", ids).bodyAsJsonObject().getJsonArray("results").getJsonObject(0)
        .getString("task_id"));
    for (String admin : List.of(OPS, SINGLE)) {
      assertEquals(200, get(admin, "/result/" + task).statusCode(), "an admin sees every task");
      assertEquals(200, get(admin, "/functions/" + fid).statusCode());
    }
    assertEquals(200, post(OPS, "/cancel/" + task, null).statusCode(), "and may cancel it");
    assertEquals(204, call(ALICE, HttpMethod.DELETE, "/functions/" + fid, null).statusCode());
  }

  @Test
  void listsHoldOnlyTheCallersOwnAndAnAdminSeesAll() {
    String aliceFn = registerAs(ALICE, "double");
    String bobFn = registerAs(BOB, "double");
    assertNotEquals(aliceFn, bobFn, "the same function of two tenants is two functions");
    String adminFn = registerAs(SINGLE, "double");
    String aliceTask = submit(ALICE, aliceFn);
    String bobTask = submit(BOB, bobFn);
    String adminTask = submit(OPS, adminFn);

    assertEquals(Set.of(aliceFn), functionIds(ALICE, ""));
    assertEquals(Set.of(aliceFn), functionIds(ALICE, "?name=double"));
    assertEquals(Set.of(bobFn), functionIds(BOB, "?name=double"));
    assertEquals(Set.of(aliceFn, bobFn, adminFn), functionIds(OPS, "?name=double"));
    assertEquals(Set.of(aliceFn, bobFn, adminFn), functionIds(SINGLE, ""));

    assertEquals(Set.of(aliceTask), taskIds(ALICE, ""));
    assertEquals(Set.of(aliceTask), taskIds(ALICE, "?status=QUEUED"));
    assertEquals(Set.of(aliceTask), taskIds(ALICE, "?function_id=" + aliceFn));
    assertEquals(Set.of(), taskIds(ALICE, "?status=COMPLETED"));
    assertEquals(Set.of(bobTask), taskIds(BOB, "?status=QUEUED"));
    assertEquals(Set.of(aliceTask, bobTask, adminTask), taskIds(OPS, ""));
    assertEquals(Set.of(bobTask), taskIds(OPS, "?function_id=" + bobFn));

    post(BOB, "/cancel/" + bobTask, null);
    assertEquals(Set.of(bobTask), taskIds(BOB, "?status=FAILED"), "the tenant's sets follow the status");
    assertEquals(Set.of(), taskIds(BOB, "?status=QUEUED"));

    call(BOB, HttpMethod.DELETE, "/functions/" + bobFn, null);
    assertEquals(Set.of(), functionIds(BOB, ""), "a deleted function leaves its tenant's lists");
    assertEquals(Set.of(), functionIds(BOB, "?name=double"));

    JsonObject aliceStats = get(ALICE, "/stats").bodyAsJsonObject();
    assertEquals(1L, aliceStats.getLong("submitted"));
    assertEquals(1L, aliceStats.getLong("queued"));
    JsonObject bobStats = get(BOB, "/stats").bodyAsJsonObject();
    assertEquals(1L, bobStats.getLong("failed"));
    assertEquals(0L, bobStats.getLong("queued"));
    HttpResponse<Buffer> platform = get(OPS, "/stats");
    assertEquals(3L, platform.bodyAsJsonObject().getLong("submitted"), platform.bodyAsString());
  }

  @Test
  void workersAndMetricsAreForAdminsAndEveryRouteNeedsAKnownKey() {
    for (String path : List.of("/workers", "/metrics")) {
      assertError(path, 403, get(ALICE, path));
      assertEquals(200, get(OPS, path).statusCode(), () -> path + " " + get(OPS, path).bodyAsString());
      assertEquals(200, get(SINGLE, path).statusCode(), path);
    }
    assertError(401, get(null, "/functions"));
    assertError(401, get("nobody-key", "/functions"));
    assertError(401, post(null, "/execute_function", new JsonObject()));
    assertEquals(200, get(ALICE, "/tasks").statusCode());
  }

  @Test
  void pastItsMaxInFlightATenantsSubmitsAnswer429WithRetryAfterUntilOneEnds() {
    String fid = registerAs(ALICE, "double");
    String first = submit(ALICE, fid);
    assertError(429, batch(ALICE, fid, 2));
    assertEquals(Set.of(first), taskIds(ALICE, ""), "a batch past the limit creates none of its tasks");
    submit(ALICE, fid);

    HttpResponse<Buffer> refused = execute(ALICE, fid);
    assertError(429, refused);
    assertEquals("1", refused.getHeader("Retry-After"));
    assertTrue(refused.bodyAsJsonObject().getString("error").contains("max_in_flight"), refused.bodyAsString());
    assertEquals(Boolean.TRUE, refused.bodyAsJsonObject().getBoolean("retry_safe"), "nothing was stored");
    assertError(429, batch(ALICE, fid, 1));
    assertEquals(201, execute(OPS, registerAs(BOB, "other")).statusCode(), "another tenant is not held back");
    assertEquals(2, taskIds(ALICE, "").size());

    assertEquals(200, post(ALICE, "/cancel/" + first, null).statusCode());
    submit(ALICE, fid);
    assertError(429, execute(ALICE, fid));
  }

  @Test
  void aTaskCountsAsInFlightThroughItsRunsAndRetriesUntilItEnds() {
    HttpResponse<Buffer> registered = post(ALICE, "/register_function", new JsonObject().put("name", "flaky")
        .put("payload", payloads.getString("fn")).put("max_retries", 1));
    String fid = registered.bodyAsJsonObject().getString("function_id");
    String first = submit(ALICE, fid);
    submit(ALICE, fid);
    TaskQueue queue = queue("tenant-test");

    QueueEntry entry = TaskSteps.claim(queue, first).get(first);
    await(TaskSteps.start(queue, entry, "w1", 3, "x", "y"));
    assertError("running", 429, execute(ALICE, fid));
    await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, "r", "boom", "w1"));
    assertEquals("QUEUED", get(ALICE, "/status/" + first).bodyAsJsonObject().getString("status"), "retried");
    assertError("queued again", 429, execute(ALICE, fid));

    entry = TaskSteps.claim(queue, first).get(first);
    await(TaskSteps.start(queue, entry, "w1", 3, "x", "y"));
    await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, "r", "boom", "w1"));
    assertEquals("FAILED", get(ALICE, "/status/" + first).bodyAsJsonObject().getString("status"));
    submit(ALICE, fid);
    assertError("ended frees its place", 429, execute(ALICE, fid));
  }

  @Test
  void theFeedShowsATenantItsOwnFunctionsAndFiguresAndNoWorkers() {
    String aliceFn = registerAs(ALICE, "double");
    String bobFn = registerAs(BOB, "double");
    submit(BOB, bobFn);
    HttpClient client = shared.vertx().createHttpClient();
    try {
      List<JsonObject> alice = listen(client, "/events?key=" + ALICE);
      List<JsonObject> ops = listen(client, "/events?key=" + OPS);
      TestRedis.eventually(Duration.ofSeconds(10), "an event each", () -> gathered(alice) != null
          && gathered(ops) != null);
      JsonObject own = gathered(alice);
      assertEquals(List.of(aliceFn), functionIdsOf(own));
      assertEquals(new JsonArray(), own.getJsonArray("workers"));
      assertEquals(0L, own.getJsonObject("totals").getLong("submitted"));
      JsonObject all = gathered(ops);
      assertEquals(Set.of(aliceFn, bobFn), Set.copyOf(functionIdsOf(all)));
      assertEquals(1L, all.getJsonObject("totals").getLong("submitted"));
    } finally {
      await(client.close());
    }
  }

  private static List<String> functionIdsOf(JsonObject event) {
    return event.getJsonArray("functions").stream().map(f -> ((JsonObject) f).getString("function_id")).toList();
  }

  /** The newest event of a gather that succeeded, or null. */
  private static JsonObject gathered(List<JsonObject> events) {
    for (int i = events.size() - 1; i >= 0; i--) {
      if (events.get(i).containsKey("totals")) {
        return events.get(i);
      }
    }
    return null;
  }

  /** Opens the feed; the returned list fills with its events as they arrive. */
  private List<JsonObject> listen(HttpClient client, String path) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1").setPort(port)
        .setURI(path);
    HttpClientResponse response = await(client.request(options).compose(request -> request.send()));
    assertEquals(200, response.statusCode());
    return ServerSentEvents.collect(response);
  }
}
