package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.api.JsonErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The API's routes beyond the four original ones, and long-polling, against a real Redis. No dispatcher
 * runs unless a test deploys one: the tests play the dispatcher's part through {@link TaskQueue}. Each test
 * has its own key prefix and its own API, so nothing leaks between them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiRoutesTest extends KeySpaceTest {
  private static final String JSON = "application/json";

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  TaskQueue queue;
  WebClient http;
  final List<String> deployments = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = [enc(((i,), {})) for i in range(10)]",
        "out['results'] = [enc(2 * i) for i in range(10)]"));
  }

  @BeforeEach
  void freshApi() {
    queue = queue("routes-test");
    http = shared.webClient(deployApi(new JsonObject()));
  }

  @AfterEach
  void cleanUp() {
    for (String id : deployments) {
      shared.undeploy(id);
    }
    http.close();
  }

  // ---------------------------------------------------------------- long-polling

  @Test
  void aWaitingResultRequestAnswersAsSoonAsTheTaskIsFinished() {
    String taskId = execute(register("double"), 4);
    QueueEntry entry = claimAndStart(taskId).get(taskId);

    Future<HttpResponse<Buffer>> waiting = http.get("/result/" + taskId + "?wait=30").timeout(40_000).send();
    TestRedis.holdsFor(Duration.ofMillis(500), "the request waits for the task to end", () -> !waiting.isComplete());

    long finishing = System.nanoTime();
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result(4), null, "test-worker")));
    HttpResponse<Buffer> response = await(waiting);
    long afterFinish = (System.nanoTime() - finishing) / 1_000_000;

    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertEquals(taskId, body.getString("task_id"));
    assertEquals("COMPLETED", body.getString("status"));
    assertEquals(result(4), body.getString("result"));
    assertEquals("test-worker", body.getString("worker"));
    assertTrue(afterFinish < 15_000, "woken by the task's end, not by the 30 s limit: " + afterFinish + " ms");
  }

  @Test
  void aWaitingResultRequestGivesUpAtItsLimit() {
    String taskId = execute(register("double"), 1);
    claimAndStart(taskId);
    HttpResponse<Buffer> response = await(http.get("/result/" + taskId + "?wait=1").timeout(10_000).send());

    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertEquals("RUNNING", body.getString("status"), "answered at the limit, while the task still runs: " + body);
    assertTrue(body.containsKey("result"), "result present, as null: " + body);
    assertNull(body.getValue("result"));
  }

  // ---------------------------------------------------------------- batch submit

  @Test
  void aBatchCreatesEveryTaskInOrderWithItsQueueEntry() {
    String functionId = register("double");
    int n = 7;
    JsonArray args = new JsonArray();
    for (int i = 0; i < n; i++) {
      args.add(args(i));
    }
    long streamBefore = TestRedis.xlen(redis, keys.queue());

    HttpResponse<Buffer> response = post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", args).put("timeout", 30));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    assertTrue(response.getHeader("content-type").startsWith(JSON));
    JsonArray ids = response.bodyAsJsonObject().getJsonArray("task_ids");
    assertEquals(n, ids.size(), response.bodyAsString());
    assertEquals(n, Set.copyOf(ids.getList()).size(), "distinct ids");

    for (int i = 0; i < n; i++) {
      String id = ids.getString(i);
      assertEquals(id, UUID.fromString(id).toString());
      Map<String, String> task = TestRedis.hash(redis, keys.task(id));
      assertEquals("QUEUED", task.get("status"), "task " + i + ": " + task);
      assertEquals(functionId, task.get("function_id"));
      assertEquals(args(i), task.get("payload"), "task_ids[" + i + "] holds payloads[" + i + "]");
      assertEquals("30", task.get("timeout"));
      assertEquals("QUEUED", get("/status/" + id).bodyAsJsonObject().getString("status"));
    }
    assertEquals(streamBefore + n, TestRedis.xlen(redis, keys.queue()));
    assertEquals(ids.getList(), queuedTaskIds(), "one stream entry per task, in order");
  }

  @Test
  void aBatchWithOneBadPayloadOrAnUnknownFunctionCreatesNothing() {
    String functionId = register("double");
    execute(functionId, 0); // the queue exists and holds one entry
    long keysBefore = TestRedis.dbsize(redis);
    long streamBefore = TestRedis.xlen(redis, keys.queue());
    int tasksBefore = TestRedis.countKeys(redis, keys.task("*"));

    JsonArray mixed = new JsonArray();
    for (int i = 0; i < 8; i++) {
      mixed.add(args(i));
    }
    mixed.set(5, "payload");
    HttpResponse<Buffer> bad = post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", mixed));
    assertError(400, bad);
    assertTrue(bad.bodyAsJsonObject().getString("error").contains("payloads[5]"), bad.bodyAsString());

    JsonArray withNumber = new JsonArray().add(args(0)).add(args(1)).add(12).add(args(2));
    assertError(400, post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", withNumber)));

    JsonArray lastBad = new JsonArray().add(args(0)).add(args(1))
        .add(java.util.Base64.getEncoder().encodeToString("not a pickle".getBytes()));
    assertError(400, post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", lastBad)));

    JsonArray good = new JsonArray().add(args(0)).add(args(1)).add(args(2));
    HttpResponse<Buffer> unknown = post("/execute_function/batch",
        new JsonObject().put("function_id", UUID.randomUUID().toString()).put("payloads", good));
    assertError(404, unknown);

    assertEquals(keysBefore, TestRedis.dbsize(redis), "no key created");
    assertEquals(tasksBefore, TestRedis.countKeys(redis, keys.task("*")), "no task created");
    assertEquals(streamBefore, TestRedis.xlen(redis, keys.queue()), "no stream entry added");

    // The same batch with the function that exists goes through.
    HttpResponse<Buffer> ok = post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", good));
    assertEquals(201, ok.statusCode(), ok.bodyAsString());
    assertEquals(streamBefore + 3, TestRedis.xlen(redis, keys.queue()));
  }

  // ---------------------------------------------------------------- POST /results

  @Test
  void resultsAnswersInOrderAndNamesUnknownTasks() {
    String functionId = register("double");
    String first = execute(functionId, 1);
    String done = execute(functionId, 2);
    String last = execute(functionId, 3);
    String unknown = UUID.randomUUID().toString();
    QueueEntry entry = claimAndStart(first, done, last).get(done);
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, result(2), null, "w")));

    HttpResponse<Buffer> response = post("/results",
        new JsonObject().put("task_ids", new JsonArray().add(last).add(unknown).add(done).add(first)));
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonArray results = response.bodyAsJsonObject().getJsonArray("results");
    assertEquals(4, results.size(), response.bodyAsString());

    assertEquals(last, results.getJsonObject(0).getString("task_id"));
    assertEquals("RUNNING", results.getJsonObject(0).getString("status"));
    assertNull(results.getJsonObject(0).getValue("result"));
    assertEquals(new JsonObject().put("task_id", unknown).put("error", "task not found"), results.getJsonObject(1));
    assertEquals(done, results.getJsonObject(2).getString("task_id"));
    assertEquals("COMPLETED", results.getJsonObject(2).getString("status"));
    assertEquals(result(2), results.getJsonObject(2).getString("result"));
    assertEquals(first, results.getJsonObject(3).getString("task_id"));
    assertEquals("RUNNING", results.getJsonObject(3).getString("status"));
    // Each entry has the shape GET /result gives.
    assertEquals(get("/result/" + done).bodyAsJsonObject(), results.getJsonObject(2));
  }

  @Test
  void resultsLongerThanMaxResultBytesAreLeftOutAndMarked() {
    String functionId = register("double");
    String small = execute(functionId, 1);
    String big = execute(functionId, 2);
    Map<String, QueueEntry> entries = claimAndStart(small, big);
    String bigResult = "gAR" + "A".repeat(4000) + "LjY=";
    assertTrue(await(TaskSteps.finish(queue, entries.get(small), TaskStatus.COMPLETED, result(1), null, "w")));
    assertTrue(await(TaskSteps.finish(queue, entries.get(big), TaskStatus.COMPLETED, bigResult, null, "w")));
    JsonObject asked = new JsonObject().put("task_ids", new JsonArray().add(small).add(big));

    JsonArray results = post("/results", asked.copy().put("max_result_bytes", 1000)).bodyAsJsonObject()
        .getJsonArray("results");
    assertEquals(result(1), results.getJsonObject(0).getString("result"));
    assertFalse(results.getJsonObject(0).containsKey("result_omitted"));
    JsonObject omitted = results.getJsonObject(1);
    assertEquals("COMPLETED", omitted.getString("status"));
    assertTrue(omitted.containsKey("result") && omitted.getValue("result") == null, omitted.encode());
    assertEquals(Boolean.TRUE, omitted.getBoolean("result_omitted"));
    assertEquals(bigResult, get("/result/" + big).bodyAsJsonObject().getString("result"), "/result has it");

    JsonArray whole = post("/results", asked).bodyAsJsonObject().getJsonArray("results");
    assertEquals(bigResult, whole.getJsonObject(1).getString("result"), "without the field, as ever");
    assertError("max_result_bytes -1", 400, post("/results", asked.copy().put("max_result_bytes", -1)));
    assertError("max_result_bytes 1.5", 400, post("/results", asked.copy().put("max_result_bytes", 1.5)));
  }

  @Test
  void resultsWithWaitAnswersWhenEveryListedTaskHasEnded() {
    String functionId = register("double");
    String a = execute(functionId, 5);
    String b = execute(functionId, 6);
    String unknown = UUID.randomUUID().toString();
    Map<String, QueueEntry> entries = claimAndStart(a, b);

    long started = System.nanoTime();
    Future<HttpResponse<Buffer>> waiting = http.post("/results").timeout(40_000)
        .sendJsonObject(new JsonObject().put("task_ids", new JsonArray().add(a).add(unknown).add(b)).put("wait", 30));
    TestRedis.holdsFor(Duration.ofMillis(400), "waits while no task has ended", () -> !waiting.isComplete());

    assertTrue(await(TaskSteps.finish(queue, entries.get(a), TaskStatus.COMPLETED, result(5), null, "w")));
    TestRedis.holdsFor(Duration.ofMillis(500), "still waits while one listed task runs", () -> !waiting.isComplete());

    long finishing = System.nanoTime();
    assertTrue(await(TaskSteps.finish(queue, entries.get(b), TaskStatus.FAILED, result(6), "Traceback", "w")));
    HttpResponse<Buffer> response = await(waiting);
    long afterLast = (System.nanoTime() - finishing) / 1_000_000;
    long total = (System.nanoTime() - started) / 1_000_000;
    System.out.println("POST /results with wait: answered " + afterLast + " ms after the last finish, " + total
        + " ms in all (limit 30 s)");

    assertEquals(200, response.statusCode(), response.bodyAsString());
    assertTrue(total < 15_000, "answered when the tasks ended, not at the 30 s limit: " + total + " ms");
    JsonArray results = response.bodyAsJsonObject().getJsonArray("results");
    assertEquals(3, results.size());
    assertEquals("COMPLETED", results.getJsonObject(0).getString("status"));
    assertEquals(result(5), results.getJsonObject(0).getString("result"));
    assertEquals("task not found", results.getJsonObject(1).getString("error"));
    assertEquals("FAILED", results.getJsonObject(2).getString("status"));
    assertEquals(result(6), results.getJsonObject(2).getString("result"));
    assertEquals("Traceback", results.getJsonObject(2).getString("error"));

    // Everything already ended: no wait at all.
    long again = System.nanoTime();
    HttpResponse<Buffer> immediate = post("/results",
        new JsonObject().put("task_ids", new JsonArray().add(a).add(b).add(unknown)).put("wait", 30));
    assertEquals(200, immediate.statusCode());
    assertTrue(System.nanoTime() - again < TimeUnit.SECONDS.toNanos(5), "ended tasks need no wait");
  }

  // ---------------------------------------------------------------- functions

  @Test
  void functionsAreListedNewestFirstWithoutTheirPayloads() {
    String a = register("alpha");
    String b = register("beta");
    String c = register("gamma");

    HttpResponse<Buffer> response = get("/functions");
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonArray list = response.bodyAsJsonObject().getJsonArray("functions");
    assertEquals(List.of(c, b, a), ids(list), "newest first: " + list);
    assertEquals(List.of("gamma", "beta", "alpha"), list.stream().map(f -> ((JsonObject) f).getString("name"))
        .toList());
    double previous = Double.MAX_VALUE;
    for (Object item : list) {
      JsonObject function = (JsonObject) item;
      assertEquals(Set.of("function_id", "name", "created_at"), function.fieldNames(), "no payload: " + function);
      double created = function.getDouble("created_at");
      assertTrue(created <= previous && created > 1e9, "created_at in seconds, newest first: " + list);
      assertEquals(Double.parseDouble(TestRedis.hash(redis, keys.function(function.getString("function_id")))
          .get("created_at")), created, 1e-6);
      previous = created;
    }

    assertEquals(List.of(c, b), ids(get("/functions?limit=2").bodyAsJsonObject().getJsonArray("functions")));
    assertEquals(List.of(a), ids(get("/functions?limit=2&offset=2").bodyAsJsonObject().getJsonArray("functions")));
    assertEquals(List.of(), ids(get("/functions?offset=3").bodyAsJsonObject().getJsonArray("functions")));

    JsonObject one = get("/functions/" + b).bodyAsJsonObject();
    assertEquals(Set.of("function_id", "name", "created_at", "env"), one.fieldNames(), one.encode());
    assertEquals("default", one.getString("env"));
    assertEquals(b, one.getString("function_id"));
    assertEquals("beta", one.getString("name"));
    assertEquals(list.getJsonObject(1).getDouble("created_at"), one.getDouble("created_at"));

    HttpResponse<Buffer> withPayload = get("/functions/" + b + "?payload=true");
    assertEquals(200, withPayload.statusCode(), withPayload.bodyAsString());
    assertEquals(one.copy().put("payload", payloads.getString("fn")), withPayload.bodyAsJsonObject());

    String unknown = UUID.randomUUID().toString();
    assertError(404, get("/functions/" + unknown));
    assertError(404, get("/functions/" + unknown + "?payload=true"));
  }

  // ---------------------------------------------------------------- health and workers

  @Test
  void healthAndWorkersReflectARunningDispatcher() {
    HttpResponse<Buffer> unhealthy = get("/health");
    assertError(503, unhealthy);
    assertTrue(unhealthy.bodyAsJsonObject().getString("error").contains("dispatcher"), unhealthy.bodyAsString());
    HttpResponse<Buffer> none = get("/workers");
    assertEquals(200, none.statusCode(), none.bodyAsString());
    assertEquals(new JsonArray(), none.bodyAsJsonObject().getJsonArray("workers"));
    assertEquals(new JsonArray(), none.bodyAsJsonObject().getJsonObject("environments").getJsonArray("offered"));

    String name = "routes-" + keys.prefix().replace(":", "");
    deployments.add(shared.deploy(new DispatcherVerticle(), new JsonObject()
        .put("redis.url", shared.server().url()).put("redis.prefix", keys.prefix()).put("mode", "local")
        .put("workers", 1).put("python", Py.python()).put("dispatcher.name", name)));

    List<HttpResponse<Buffer>> health = new ArrayList<>(List.of(unhealthy));
    TestRedis.eventually(Duration.ofSeconds(15), "/health turns 200", () -> {
      health.set(0, get("/health"));
      return health.get(0).statusCode() == 200;
    });
    JsonObject healthy = health.get(0).bodyAsJsonObject();
    assertEquals("ok", healthy.getString("status"), healthy.encode());
    assertEquals(new JsonArray().add(name), healthy.getJsonArray("dispatchers"));

    HttpResponse<Buffer> response = get("/workers");
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonArray workers = response.bodyAsJsonObject().getJsonArray("workers");
    assertEquals(1, workers.size(), workers.encode());
    JsonObject worker = workers.getJsonObject(0);
    assertEquals("local", worker.getString("mode"), worker.encode());
    assertEquals(1, worker.getInteger("slots"), worker.encode());
    assertEquals(name, worker.getString("dispatcher"), worker.encode());
    assertNotNull(worker.getString("id"), worker.encode());
  }

  // ---------------------------------------------------------------- API key

  @Test
  void anApiKeyGuardsEveryRouteButHealth() {
    String key = "k3y-" + UUID.randomUUID();
    WebClient guarded = shared.webClient(deployApi(new JsonObject().put("api.key", key)));
    try {
      String functionId = register("double");
      String taskId = execute(functionId, 1);
      List<Call> routes = List.of(
          route(HttpMethod.POST, "/register_function",
              new JsonObject().put("name", "f").put("payload", payloads.getString("fn")), 201),
          route(HttpMethod.POST, "/execute_function",
              new JsonObject().put("function_id", functionId).put("payload", args(2)), 201),
          route(HttpMethod.POST, "/execute_function/batch", new JsonObject().put("function_id", functionId)
              .put("payloads", new JsonArray().add(args(3)).add(args(4))), 201),
          route(HttpMethod.POST, "/results", new JsonObject().put("task_ids", new JsonArray().add(taskId)), 200),
          route(HttpMethod.GET, "/status/" + taskId, null, 200),
          route(HttpMethod.GET, "/result/" + taskId, null, 200),
          route(HttpMethod.GET, "/result/" + taskId + "?wait=0", null, 200),
          route(HttpMethod.GET, "/functions", null, 200),
          route(HttpMethod.GET, "/functions?limit=1", null, 200),
          route(HttpMethod.GET, "/functions/" + functionId, null, 200),
          route(HttpMethod.GET, "/functions/" + functionId + "?payload=true", null, 200),
          route(HttpMethod.GET, "/workers", null, 200),
          route(HttpMethod.GET, "/no/such/route", null, 404),
          route(HttpMethod.DELETE, "/status/" + taskId, null, 405));
      List<String> wrongKeys = List.of("Bearer wrong", key, "Bearer " + key + "x", "Bearer " + key.substring(1),
          "Bearer", "Bearer ", "Basic " + key, "Bearer  " + key, "Token " + key);

      long keysBefore = TestRedis.dbsize(redis);
      for (Call r : routes) {
        HttpMethod method = r.method();
        String path = r.path();
        JsonObject body = r.body();
        HttpResponse<Buffer> noKey = send(guarded.request(method, path), body);
        assertError(method + " " + path + " without a key", 401, noKey);
        assertEquals("Bearer", noKey.getHeader("WWW-Authenticate"), method + " " + path);
        for (String wrong : wrongKeys) {
          HttpResponse<Buffer> refused = send(guarded.request(method, path).putHeader("Authorization", wrong), body);
          assertError(method + " " + path + " with Authorization: " + wrong, 401, refused);
        }
      }
      assertEquals(keysBefore, TestRedis.dbsize(redis), "nothing stored without the key");

      for (Call r : routes) {
        HttpMethod method = r.method();
        String path = r.path();
        HttpResponse<Buffer> response = send(guarded.request(method, path)
            .putHeader("Authorization", "Bearer " + key), r.body());
        assertEquals(r.status(), response.statusCode(),
            method + " " + path + " with the key: " + response.bodyAsString());
      }

      // /health needs no key (and says why it is unhealthy: no dispatcher here).
      HttpResponse<Buffer> health = await(guarded.get("/health").send());
      assertNotEquals(401, health.statusCode(), health.bodyAsString());
      assertError(503, health);
      HttpResponse<Buffer> healthWithWrongKey = await(guarded.get("/health")
          .putHeader("Authorization", "Bearer wrong").send());
      assertEquals(503, healthWithWrongKey.statusCode(), healthWithWrongKey.bodyAsString());
    } finally {
      guarded.close();
    }
  }

  /** A request to a route and its status when the right key is sent. */
  private record Call(HttpMethod method, String path, JsonObject body, int status) {}

  private static Call route(HttpMethod method, String path, JsonObject body, int status) {
    return new Call(method, path, body, status);
  }

  // ---------------------------------------------------------------- helpers

  /** Deploys an API on a free port with this test's prefix (plus {@code extra}); returns its port. */
  @Test
  void aFunctionsEnvironmentIsANameOrA400AndPartOfItsIdentity() {
    for (Object bad : List.of("", "a b", "x".repeat(65), "../up", "tab\t", 7, true, new JsonArray().add("special"))) {
      JsonObject body = new JsonObject().put("name", "double").put("payload", payloads.getString("fn")).put("env", bad);
      HttpResponse<Buffer> refused = post("/register_function", body);
      assertError(400, refused);
      assertTrue(refused.bodyAsJsonObject().getString("error").contains("'env'"), refused.bodyAsString());
    }
    assertEquals(0, TestRedis.xlen(redis, keys.queue()), "nothing registered, nothing queued");

    JsonObject special = new JsonObject().put("name", "double").put("payload", payloads.getString("fn"))
        .put("env", "special.v-1_2");
    HttpResponse<Buffer> first = post("/register_function", special);
    assertEquals(201, first.statusCode(), first.bodyAsString());
    String id = first.bodyAsJsonObject().getString("function_id");
    assertEquals(id, post("/register_function", special).bodyAsJsonObject().getString("function_id"));
    assertNotEquals(id, register("double"), "the same name and payload for another environment is another function");
    assertEquals("special.v-1_2", get("/functions/" + id).bodyAsJsonObject().getString("env"));

    execute(id, 1);
    JsonObject environments = get("/stats").bodyAsJsonObject().getJsonObject("environments");
    assertEquals(new JsonArray().add("special.v-1_2"), environments.getJsonArray("waited_for"),
        "no dispatcher runs: its queued task waits for its environment");
    assertEquals(1L, environments.getJsonObject("queued").getLong("special.v-1_2"));
    assertEquals(environments, get("/workers").bodyAsJsonObject().getJsonObject("environments"));
  }

  private int deployApi(JsonObject extra) {
    RedisAndVertx.DeployedApi api =
        shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix()).mergeIn(extra));
    deployments.add(api.deploymentId());
    return api.port();
  }

  private HttpResponse<Buffer> post(String path, JsonObject body) {
    return await(http.post(path).timeout(10_000).sendJsonObject(body));
  }

  private HttpResponse<Buffer> get(String path) {
    return await(http.get(path).timeout(10_000).send());
  }

  private static HttpResponse<Buffer> send(HttpRequest<Buffer> request, JsonObject body) {
    request.timeout(10_000);
    return await(body == null ? request.send() : request.sendJsonObject(body));
  }

  private String register(String name) {
    HttpResponse<Buffer> response = post("/register_function",
        new JsonObject().put("name", name).put("payload", payloads.getString("fn")));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("function_id");
  }

  private String execute(String functionId, int arg) {
    HttpResponse<Buffer> response = post("/execute_function",
        new JsonObject().put("function_id", functionId).put("payload", args(arg)));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  private static String args(int i) {
    return payloads.getJsonArray("args").getString(i);
  }

  private static String result(int i) {
    return payloads.getJsonArray("results").getString(i);
  }

  /** Plays the dispatcher: claims the queue entries of these tasks and moves them to RUNNING. */
  private Map<String, QueueEntry> claimAndStart(String... taskIds) {
    Map<String, QueueEntry> found = TaskSteps.claim(queue, taskIds);
    for (String taskId : taskIds) {
      assertNotNull(await(TaskSteps.start(queue, found.get(taskId), queue.consumer(), 3, "x", "y")), taskId);
    }
    return found;
  }

  /** The task ids of the queue's entries, oldest first. */
  private List<String> queuedTaskIds() {
    Response entries = TestRedis.cmd(redis, Command.XRANGE, keys.queue(), "-", "+");
    List<String> ids = new ArrayList<>();
    for (Response entry : entries) {
      Response fields = entry.get(1);
      assertEquals("task", fields.get(0).toString());
      ids.add(fields.get(1).toString());
    }
    return ids;
  }

  private static List<String> ids(JsonArray functions) {
    return functions.stream().map(f -> ((JsonObject) f).getString("function_id")).toList();
  }

}
