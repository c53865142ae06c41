package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.api.JsonErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import io.mpcsfaas.store.Presence;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The REST API over HTTP, against a real redis-server it can lose and get back. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ApiVerticleTest extends KeySpaceTest {
  private static final String JSON = "application/json";
  private static final String PICKLE = "application/octet-stream";
  /** {@code ((21,), {})} pickled with protocol 0, which is text: a pickle body the test can write as a String. */
  private static final String TEXT_PICKLE = "((I21\ntp0\n(dp1\ntp2\n.";
  private static final int BODY_LIMIT = 1024;

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(true);
  static WebClient http;
  static int port;
  static JsonObject payloads;
  /** A function registered before the tests, for the cases that need a real one. */
  static String knownFunction;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))",
        "out['result'] = enc(42)",
        "out['error'] = enc(ZeroDivisionError('division by zero'))"));
    port = shared.deployApi(new JsonObject().put("api.body_limit", BODY_LIMIT)).port();
    http = shared.webClient(port);
    knownFunction = register().getString("function_id");
  }

  /** The prefix of the API the class deploys (the default one). */
  @Override
  protected String prefix() {
    return "faas:";
  }

  // ---------------------------------------------------------------- HTTP helpers

  static HttpResponse<Buffer> send(HttpMethod method, String path, String body, String contentType) {
    var request = http.request(method, path).timeout(10_000);
    if (contentType != null) {
      request.putHeader("content-type", contentType);
    }
    return await(body == null ? request.send() : request.sendBuffer(Buffer.buffer(body)));
  }

  static HttpResponse<Buffer> post(String path, JsonObject body) {
    return send(HttpMethod.POST, path, body.encode(), JSON);
  }

  static HttpResponse<Buffer> get(String path) {
    return send(HttpMethod.GET, path, null, null);
  }

  /** A function of its own (registration is idempotent on name and payload), so a test finds its own tasks by it. */
  static JsonObject register() {
    HttpResponse<Buffer> response = post("/register_function",
        new JsonObject().put("name", "double-" + TestRedis.randomTag()).put("payload", payloads.getString("fn")));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject();
  }

  static void assertUuid(String text) {
    assertNotNull(text);
    assertEquals(text, UUID.fromString(text).toString(), "canonical UUID");
  }

  // ---------------------------------------------------------------- refusals

  static Stream<Arguments> badRequests() {
    String fn = payloads.getString("fn");
    String args = payloads.getString("args");
    String unknownFunction = UUID.randomUUID().toString();
    String randomTask = UUID.randomUUID().toString();
    JsonObject oversized = new JsonObject().put("name", "big").put("payload", "A".repeat(BODY_LIMIT * 2));
    return Stream.of(
        bad("malformed JSON", "POST", "/register_function", "{\"name\": \"f\", \"payload\":", JSON, 400),
        bad("JSON array body", "POST", "/register_function", "[1, 2]", JSON, 400),
        bad("JSON string body", "POST", "/register_function", "\"text\"", JSON, 400),
        bad("JSON null body", "POST", "/register_function", "null", JSON, 400),
        bad("empty body", "POST", "/register_function", "", JSON, 400),
        bad("no body", "POST", "/execute_function", null, null, 400),
        bad("missing name", "POST", "/register_function", obj("payload", fn), JSON, 400),
        bad("missing payload", "POST", "/register_function", obj("name", "f"), JSON, 400),
        bad("null payload", "POST", "/register_function", "{\"name\": \"f\", \"payload\": null}", JSON, 400),
        bad("number payload", "POST", "/register_function", obj("name", "f", "payload", 42), JSON, 400),
        bad("number name", "POST", "/register_function", obj("name", 7, "payload", fn), JSON, 400),
        bad("object payload", "POST", "/register_function", obj("name", "f", "payload", new JsonObject()), JSON, 400),
        bad("payload 'payload'", "POST", "/register_function", obj("name", "f", "payload", "payload"), JSON, 400),
        bad("payload ''", "POST", "/register_function", obj("name", "f", "payload", ""), JSON, 400),
        bad("payload '===='", "POST", "/register_function", obj("name", "f", "payload", "===="), JSON, 400),
        bad("payload not a pickle", "POST", "/register_function", obj("name", "f", "payload", "aGVsbG8="), JSON, 400),
        bad("payload with non-base64", "POST", "/register_function", obj("name", "f", "payload", "gAJ*LFS4"), JSON, 400),
        bad("missing function_id", "POST", "/execute_function", obj("payload", args), JSON, 400),
        bad("missing args payload", "POST", "/execute_function", obj("function_id", "KNOWN"), JSON, 400),
        bad("function_id not a UUID", "POST", "/execute_function", obj("function_id", "abc", "payload", args), JSON, 400),
        bad("function_id a number", "POST", "/execute_function", obj("function_id", 12, "payload", args), JSON, 400),
        bad("args payload 'payload'", "POST", "/execute_function", obj("function_id", "KNOWN", "payload", "payload"),
            JSON, 400),
        bad("timeout 0", "POST", "/execute_function", obj("function_id", "KNOWN", "payload", args, "timeout", 0),
            JSON, 400),
        bad("timeout a string", "POST", "/execute_function",
            obj("function_id", "KNOWN", "payload", args, "timeout", "5"), JSON, 400),
        bad("unknown function", "POST", "/execute_function", obj("function_id", unknownFunction, "payload", args),
            JSON, 404),
        bad("wait=abc on a submit", "POST", "/execute_function?wait=abc", obj("function_id", "KNOWN", "payload", args),
            JSON, 400),
        bad("wait=61 on a submit", "POST", "/execute_function?wait=61", obj("function_id", "KNOWN", "payload", args),
            JSON, 400),
        bad("waited submit of an unknown function", "POST", "/execute_function?wait=5",
            obj("function_id", unknownFunction, "payload", args), JSON, 404),
        bad("status of unknown task", "GET", "/status/" + randomTask, null, null, 404),
        bad("result of unknown task", "GET", "/result/" + randomTask, null, null, 404),
        bad("status of a non-UUID", "GET", "/status/not-a-uuid", null, null, 400),
        bad("result of a non-UUID", "GET", "/result/12345", null, null, 400),
        bad("body over the limit", "POST", "/register_function", oversized.encode(), JSON, 413),
        bad("GET /register_function", "GET", "/register_function", null, null, 405),
        bad("DELETE /execute_function", "DELETE", "/execute_function", null, null, 405),
        bad("POST /status/id", "POST", "/status/" + randomTask, "{}", JSON, 405),
        bad("unknown route", "GET", "/no/such/route", null, null, 404),
        bad("form body", "POST", "/register_function", "name=f&payload=gAJLFS4%3D",
            "application/x-www-form-urlencoded", 415),
        bad("XML body", "POST", "/execute_function", "<task/>", "application/xml", 415),
        bad("pickle body without function_id", "POST", "/execute_function", TEXT_PICKLE, PICKLE, 400),
        bad("empty pickle body", "POST", "/execute_function?function_id=KNOWN", "", PICKLE, 400),
        bad("pickle body not a pickle", "POST", "/execute_function?function_id=KNOWN", "hello", PICKLE, 400),
        bad("pickle body of JSON", "POST", "/execute_function?function_id=KNOWN",
            obj("function_id", "KNOWN", "payload", args), PICKLE, 400),
        bad("pickle body, timeout NaN", "POST", "/execute_function?function_id=KNOWN&timeout=NaN", TEXT_PICKLE,
            PICKLE, 400),
        bad("pickle body, max_retries 1.5", "POST", "/execute_function?function_id=KNOWN&max_retries=1.5",
            TEXT_PICKLE, PICKLE, 400),
        bad("pickle body of an unknown function", "POST", "/execute_function?function_id=" + unknownFunction,
            TEXT_PICKLE, PICKLE, 404),
        bad("pickle body to register", "POST", "/register_function", TEXT_PICKLE, PICKLE, 415),
        bad("pickle body to a batch", "POST", "/execute_function/batch", TEXT_PICKLE, PICKLE, 415));
  }

  private static Arguments bad(String name, String method, String path, String body, String type, int status) {
    return Arguments.of(name, method, path, body, type, status);
  }

  private static String obj(Object... pairs) {
    JsonObject json = new JsonObject();
    for (int i = 0; i < pairs.length; i += 2) {
      json.put((String) pairs[i], pairs[i + 1]);
    }
    return json.encode();
  }

  @ParameterizedTest(name = "{0} -> {5}")
  @MethodSource("badRequests")
  void badRequestsGetAJsonErrorAndChangeNothing(String name, String method, String path, String body,
      String contentType, int status) {
    long keysBefore = TestRedis.dbsize(redis);
    String realBody = body == null ? null : body.replace("KNOWN", knownFunction);
    HttpResponse<Buffer> response = send(HttpMethod.valueOf(method), path.replace("KNOWN", knownFunction), realBody,
        contentType);
    assertError(name, status, response);
    assertEquals(keysBefore, TestRedis.dbsize(redis), name + ": nothing stored by a refused request");
  }

  // ---------------------------------------------------------------- the happy path

  @Test
  void registerExecuteStatusResult() {
    JsonObject registered = register();
    String functionId = registered.getString("function_id");
    assertUuid(functionId);
    assertEquals(Map.of("function_id", functionId), registered.getMap());
    assertEquals(payloads.getString("fn"), TestRedis.hash(redis, keys.function(functionId)).get("payload"));

    HttpResponse<Buffer> executed = post("/execute_function",
        new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args")));
    assertEquals(201, executed.statusCode(), executed.bodyAsString());
    assertTrue(executed.getHeader("content-type").startsWith(JSON));
    String taskId = executed.bodyAsJsonObject().getString("task_id");
    assertUuid(taskId);
    Map<String, String> task = hash(taskId);
    assertEquals("QUEUED", task.get("status"));
    assertEquals(functionId, task.get("function_id"));
    // Stored as plain base64: dill's encoder breaks lines, which the API drops.
    assertEquals(payloads.getString("args").replace("\n", ""), task.get("payload"));

    HttpResponse<Buffer> status = get("/status/" + taskId);
    assertEquals(200, status.statusCode());
    assertEquals(new JsonObject().put("task_id", taskId).put("status", "QUEUED"), status.bodyAsJsonObject());

    HttpResponse<Buffer> result = get("/result/" + taskId);
    assertEquals(200, result.statusCode());
    JsonObject body = result.bodyAsJsonObject();
    assertEquals(taskId, body.getString("task_id"));
    assertEquals("QUEUED", body.getString("status"));
    assertTrue(body.containsKey("result"), "result is present, as null: " + body);
    assertNull(body.getValue("result"));

    // Upper-case UUIDs name the same task.
    assertEquals(200, get("/status/" + taskId.toUpperCase()).statusCode());
  }

  @Test
  void resultShowsTheStoredOutcome() {
    String functionId = register().getString("function_id");
    String ok = execute(functionId, 5);
    String bad = execute(functionId, null);
    assertEquals("5", hash(ok).get("timeout"));

    JsonObject queued = get("/result/" + ok).bodyAsJsonObject();
    assertEquals(0, queued.getInteger("attempts"));
    assertNotNull(queued.getDouble("created_at"));
    assertNull(queued.getValue("started_at"));
    assertNull(queued.getValue("finished_at"));

    // Play the dispatcher's part through the store.
    TaskQueue queue = queue("api-test");
    Map<String, QueueEntry> entries = TaskSteps.claim(queue, ok, bad);
    await(TaskSteps.start(queue, entries.get(ok), "api-test", 3, "x", "y"));
    assertEquals("RUNNING", get("/status/" + ok).bodyAsJsonObject().getString("status"));
    JsonObject running = get("/result/" + ok).bodyAsJsonObject();
    assertNull(running.getValue("result"), "no result while running");
    assertEquals(1, running.getInteger("attempts"));
    assertNotNull(running.getDouble("started_at"));
    await(TaskSteps.finish(queue, entries.get(ok), TaskStatus.COMPLETED, payloads.getString("result"), null,
        "api-test/local"));
    await(TaskSteps.start(queue, entries.get(bad), "api-test", 3, "x", "y"));
    await(TaskSteps.finish(queue, entries.get(bad), TaskStatus.FAILED, payloads.getString("error"),
        "Traceback...\nZeroDivisionError: division by zero", "api-test/local"));

    JsonObject done = get("/result/" + ok).bodyAsJsonObject();
    assertEquals("COMPLETED", done.getString("status"));
    assertEquals("42", Py.describe(done.getString("result")).getString("repr"));
    assertNull(done.getValue("error"));
    assertEquals("api-test/local", done.getString("worker"));
    assertTrue(done.getDouble("finished_at") >= done.getDouble("started_at"));
    assertTrue(done.getDouble("started_at") >= done.getDouble("created_at"));
    JsonObject failed = get("/result/" + bad).bodyAsJsonObject();
    assertEquals("FAILED", failed.getString("status"));
    assertEquals("ZeroDivisionError", Py.describe(failed.getString("result")).getString("type"));
    assertEquals("Traceback...\nZeroDivisionError: division by zero", failed.getString("error"));
  }

  @Test
  void resultWithWaitAnswersAsSoonAsTheTaskEnds() {
    String functionId = register().getString("function_id");
    String taskId = execute(functionId, null);
    TaskQueue queue = queue("api-wait-test");
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    await(TaskSteps.start(queue, entry, "api-wait-test", 3, "x", "y"));

    long started = System.nanoTime();
    var waiting = http.get("/result/" + taskId + "?wait=20").timeout(30_000).send();
    TestRedis.pause(500);
    assertFalse(waiting.isComplete(), "the request waits for the task");
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w"));
    HttpResponse<Buffer> response = await(waiting);
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
    assertEquals(200, response.statusCode(), response.bodyAsString());
    assertEquals("COMPLETED", response.bodyAsJsonObject().getString("status"));
    assertEquals(payloads.getString("result"), response.bodyAsJsonObject().getString("result"));
    assertTrue(elapsedMillis < 10_000, "woken by the completion, not by the 20 s limit: " + elapsedMillis + " ms");

    // Already ended: no wait at all.
    started = System.nanoTime();
    assertEquals("COMPLETED", get("/result/" + taskId + "?wait=20").bodyAsJsonObject().getString("status"));
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10), "ended: no wait for the 20 s limit");
  }

  @Test
  void aSubmitWithWaitAnswersWithTheResultWhenTheTaskEnds() {
    String functionId = register().getString("function_id");
    JsonObject body = new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args"));
    long started = System.nanoTime();
    var waiting = http.post("/execute_function?wait=20").timeout(30_000).sendJsonObject(body);
    TaskQueue queue = queue("api-submit-wait-test");
    QueueEntry entry = claimAny(queue, functionId);
    await(TaskSteps.start(queue, entry, "api-submit-wait-test", 3, "x", "y"));
    TestRedis.pause(300);
    assertFalse(waiting.isComplete(), "the submit waits for its task");
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null,
        "w"));
    HttpResponse<Buffer> response = await(waiting);
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
    assertEquals(201, response.statusCode(), response.bodyAsString());
    JsonObject done = response.bodyAsJsonObject();
    assertEquals(entry.taskId(), done.getString("task_id"));
    assertEquals("COMPLETED", done.getString("status"));
    assertEquals(payloads.getString("result"), done.getString("result"));
    assertEquals("w", done.getString("worker"));
    assertTrue(elapsedMillis < 10_000, "woken by the completion, not by the 20 s limit: " + elapsedMillis + " ms");
    assertEquals(done.getMap(), get("/result/" + entry.taskId()).bodyAsJsonObject().getMap(), "what /result says");
  }

  @Test
  void aSubmitMayBeThePickleItselfAndTheValueComesBackAsItsBytes() {
    String functionId = register().getString("function_id");
    byte[] args = Base64.getMimeDecoder().decode(payloads.getString("args"));
    var waiting = http.post("/execute_function?function_id=" + functionId
            + "&timeout=5&max_retries=2&retry_delay=0.5&wait=20&timeout=7&wait=0")
        .putHeader("content-type", PICKLE).putHeader("accept", PICKLE + ", " + JSON).timeout(30_000)
        .sendBuffer(Buffer.buffer(args));
    TaskQueue queue = queue("api-pickle-test");
    QueueEntry entry = claimAny(queue, functionId);
    Map<String, String> task = hash(entry.taskId());
    assertEquals(Base64.getEncoder().encodeToString(args), task.get("payload"), "stored as base64, as ever");
    assertEquals("5", task.get("timeout"), "a field given twice counts with its first value, as wait does");
    assertEquals("2", task.get("max_retries"));
    assertEquals("0.5", task.get("retry_delay"));
    await(TaskSteps.start(queue, entry, "api-pickle-test", 3, "x", "y"));
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w"));
    byte[] value = Base64.getMimeDecoder().decode(payloads.getString("result"));

    HttpResponse<Buffer> answered = await(waiting);
    assertEquals(201, answered.statusCode(), answered.bodyAsString());
    assertPickle(entry.taskId(), value, answered);
    HttpResponse<Buffer> asked = await(http.get("/result/" + entry.taskId()).putHeader("accept", PICKLE).send());
    assertEquals(200, asked.statusCode());
    assertPickle(entry.taskId(), value, asked);
    JsonObject json = get("/result/" + entry.taskId()).bodyAsJsonObject();
    assertEquals(payloads.getString("result"), json.getString("result"), "JSON unless the bytes are asked for");
    HttpResponse<Buffer> refused = await(http.get("/result/" + entry.taskId())
        .putHeader("accept", PICKLE + ";q=0, " + JSON).send());
    assertTrue(refused.getHeader("content-type").startsWith(JSON), "a weight of 0 refuses the type");
    assertEquals("accept", refused.getHeader("vary"));
  }

  private static void assertPickle(String taskId, byte[] value, HttpResponse<Buffer> response) {
    assertEquals(PICKLE, response.getHeader("content-type"));
    assertEquals(taskId, response.getHeader("x-task-id"));
    assertEquals("COMPLETED", response.getHeader("x-task-status"));
    assertArrayEquals(value, response.body().getBytes());
  }

  @Test
  void aTaskNotCompletedIsAnsweredAsJsonToAClientThatTakesBytes() {
    String functionId = register().getString("function_id");
    String taskId = execute(functionId, null);
    HttpResponse<Buffer> queued = await(http.get("/result/" + taskId).putHeader("accept", PICKLE).send());
    assertTrue(queued.getHeader("content-type").startsWith(JSON));
    assertEquals("QUEUED", queued.bodyAsJsonObject().getString("status"));

    TaskQueue queue = queue("api-pickle-failed-test");
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    await(TaskSteps.start(queue, entry, "api-pickle-failed-test", 3, "x", "y"));
    await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, payloads.getString("error"), "Traceback...", "w"));
    HttpResponse<Buffer> failed = await(http.get("/result/" + taskId).putHeader("accept", PICKLE).send());
    assertTrue(failed.getHeader("content-type").startsWith(JSON));
    assertEquals("FAILED", failed.bodyAsJsonObject().getString("status"));
    assertEquals("Traceback...", failed.bodyAsJsonObject().getString("error"));
  }

  @Test
  void aTaskThatEndsWhileTheCompletionSubscriptionIsDownStillWakesItsWaiters() {
    String taskId = execute(register().getString("function_id"), null);
    TaskQueue queue = queue("api-resubscribe-test");
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    await(TaskSteps.start(queue, entry, "api-resubscribe-test", 3, "x", "y"));
    long started = System.nanoTime();
    var waiting = http.get("/result/" + taskId + "?wait=20").timeout(30_000).send();
    TestRedis.pause(300);
    assertFalse(waiting.isComplete(), "the request waits for the task");

    // The API's subscription drops and the task ends before it can subscribe again (it waits 100 ms first):
    // the announcement reaches no one.
    TestRedis.cmd(redis, io.vertx.redis.client.Command.CLIENT, "KILL", "TYPE", "pubsub");
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w"));

    HttpResponse<Buffer> response = await(waiting);
    long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
    assertEquals("COMPLETED", response.bodyAsJsonObject().getString("status"));
    assertTrue(elapsedMillis < 10_000, "woken after subscribing again, not at the 20 s limit: " + elapsedMillis);
  }

  @Test
  void aSubmitWithWaitGivesUpAtItsLimitWithTheTaskQueued() {
    JsonObject body = new JsonObject().put("function_id", register().getString("function_id"))
        .put("payload", payloads.getString("args"));
    HttpResponse<Buffer> response = await(http.post("/execute_function?wait=0.5").timeout(10_000)
        .sendJsonObject(body));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    JsonObject queued = response.bodyAsJsonObject();
    assertEquals("QUEUED", queued.getString("status"));
    assertNull(queued.getValue("result"));
    assertEquals("QUEUED", get("/status/" + queued.getString("task_id")).bodyAsJsonObject().getString("status"));
  }

  @Test
  void resultWithWaitGivesUpAtItsLimit() {
    String taskId = execute(register().getString("function_id"), null);
    HttpResponse<Buffer> response = get("/result/" + taskId + "?wait=0.5");
    assertEquals(200, response.statusCode());
    assertEquals("QUEUED", response.bodyAsJsonObject().getString("status"), "answered at the limit, still queued");
    assertNull(response.bodyAsJsonObject().getValue("result"));
  }

  @Test
  void aBodyOverTheLimitIs413NamingTheLimit() {
    String oversized = new JsonObject().put("name", "big").put("payload", "A".repeat(BODY_LIMIT * 2)).encode();
    HttpResponse<Buffer> response = send(HttpMethod.POST, "/register_function", oversized, JSON);
    assertError("body over the limit", 413, response);
    String error = response.bodyAsJsonObject().getString("error");
    assertTrue(error.contains(BODY_LIMIT + " bytes") && error.contains("--body-limit"), error);
  }

  @Test
  void badWaitValuesAre400() {
    String taskId = execute(register().getString("function_id"), null);
    assertError("wait=abc", 400, get("/result/" + taskId + "?wait=abc"));
    assertError("wait=-1", 400, get("/result/" + taskId + "?wait=-1"));
    assertError("wait=61", 400, get("/result/" + taskId + "?wait=61"));
    assertError("wait on unknown task", 404, get("/result/" + UUID.randomUUID() + "?wait=1"));
  }

  @Test
  void anApiKeyGuardsEveryRouteButHealth() {
    RedisAndVertx.DeployedApi guarded = shared.deployApi(new JsonObject().put("api.key", "s3cret"));
    WebClient client = WebClient.create(shared.vertx(), new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(guarded.port()));
    try {
      String taskId = execute(knownFunction, null);
      JsonObject register = new JsonObject().put("name", "f").put("payload", payloads.getString("fn"));
      long keysBefore = TestRedis.dbsize(redis);

      HttpResponse<Buffer> health = await(client.get("/health").send());
      assertNotEquals(401, health.statusCode(), "/health needs no key: " + health.bodyAsString());
      HttpResponse<Buffer> noKey = await(client.get("/status/" + taskId).send());
      assertError("no key", 401, noKey);
      assertEquals("Bearer", noKey.getHeader("WWW-Authenticate"));
      assertError("wrong key", 401, await(client.get("/status/" + taskId)
          .putHeader("Authorization", "Bearer wrong").send()));
      assertError("key without Bearer", 401, await(client.get("/status/" + taskId)
          .putHeader("Authorization", "s3cret").send()));
      assertError("register without key", 401, await(client.post("/register_function").sendJsonObject(register)));
      assertError("unknown route without key", 401, await(client.get("/nope").send()));
      assertEquals(keysBefore, TestRedis.dbsize(redis));

      HttpResponse<Buffer> withKey = await(client.get("/status/" + taskId)
          .putHeader("Authorization", "Bearer s3cret").send());
      assertEquals(200, withKey.statusCode(), withKey.bodyAsString());
      assertEquals(201, await(client.post("/register_function").putHeader("Authorization", "Bearer s3cret")
          .sendJsonObject(register)).statusCode());
      // The unguarded API of the other tests still answers without a key.
      assertEquals(200, get("/status/" + taskId).statusCode());
    } finally {
      client.close();
      shared.undeploy(guarded.deploymentId());
    }
  }

  private static String execute(String functionId, Integer timeout) {
    JsonObject body = new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args"));
    if (timeout != null) {
      body.put("timeout", timeout);
    }
    HttpResponse<Buffer> response = post("/execute_function", body);
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  /** Claims queue entries until one of a task of {@code functionId} is found (its id is not known yet). */
  private QueueEntry claimAny(TaskQueue queue, String functionId) {
    await(queue.ensureGroup());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (QueueEntry entry : await(queue.claim(10_000, 100, false))) {
        if (functionId.equals(hash(entry.taskId()).get("function_id"))) {
          return entry;
        }
      }
    }
    throw new AssertionError("no queue entry of a task of " + functionId);
  }

  @Test
  void healthNeedsALiveDispatcher() {
    // No dispatcher in this test class: tasks would wait forever, and /health says so.
    HttpResponse<Buffer> none = get("/health");
    assertError("no dispatcher", 503, none);
    assertTrue(none.bodyAsJsonObject().getString("error").contains("dispatcher"), none.bodyAsString());

    // A dispatcher announcing itself (as DispatcherVerticle does every second) makes it healthy.
    Presence presence = new Presence(redis, keys);
    await(presence.announce("health-test", new JsonObject().put("name", "health-test").put("mode", "local"), 3000));
    HttpResponse<Buffer> health = get("/health");
    assertEquals(200, health.statusCode(), health.bodyAsString());
    assertEquals("ok", health.bodyAsJsonObject().getString("redis"));
    assertTrue(health.bodyAsJsonObject().getJsonArray("dispatchers").contains("health-test"), health.bodyAsString());

    // Once its announcement is gone (expired, or deleted here), unhealthy again.
    TestRedis.cmd(redis, io.vertx.redis.client.Command.DEL, keys.dispatcher("health-test"));
    assertEquals(503, get("/health").statusCode());
  }

  // ---------------------------------------------------------------- Redis outage

  @Test
  void aRedisOutageIs503AndTheApiRecoversWithTheDataIntact() throws Exception {
    String functionId = register().getString("function_id");
    String taskId = post("/execute_function", new JsonObject().put("function_id", functionId)
        .put("payload", payloads.getString("args"))).bodyAsJsonObject().getString("task_id");

    shared.server().kill();
    try {
      long started = System.nanoTime();
      assertError(503, post("/register_function",
          new JsonObject().put("name", "f").put("payload", payloads.getString("fn"))));
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(3), "register answered within 3 s");

      started = System.nanoTime();
      assertError(503, get("/status/" + taskId));
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(3), "status answered within 3 s");

      assertError(503, get("/result/" + taskId));
      HttpResponse<Buffer> unknown = post("/execute_function",
          new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args")));
      assertError(503, unknown);
      assertNull(unknown.bodyAsJsonObject().getValue("retry_safe"), "whether the task was stored is not known");
      // Refusals that need no Redis still get their own status.
      assertError(400, post("/register_function", new JsonObject().put("name", "f")));
    } finally {
      shared.server().restart();
    }

    HttpResponse<Buffer> status = get("/status/" + taskId);
    assertEquals(200, status.statusCode(), "first request after the restart: " + status.bodyAsString());
    assertEquals("QUEUED", status.bodyAsJsonObject().getString("status"));
    assertEquals(201, post("/execute_function", new JsonObject().put("function_id", functionId)
        .put("payload", payloads.getString("args"))).statusCode(), "the function survived the restart");
    assertEquals(201, post("/register_function",
        new JsonObject().put("name", "again").put("payload", payloads.getString("fn"))).statusCode());
    assertEquals(200, get("/result/" + taskId).statusCode());
  }

  @Test
  void manyConcurrentRequestsAllSucceed() {
    String functionId = register().getString("function_id");
    WebClient pooled = WebClient.create(shared.vertx(), new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(port), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(20));
    var futures = new java.util.ArrayList<io.vertx.core.Future<HttpResponse<Buffer>>>();
    for (int i = 0; i < 200; i++) {
      futures.add(pooled.post("/execute_function").putHeader("content-type", JSON)
          .sendJsonObject(new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args"))));
    }
    await(io.vertx.core.Future.join(futures));
    pooled.close();
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (var f : futures) {
      assertEquals(201, f.result().statusCode(), f.result().bodyAsString());
      ids.add(f.result().bodyAsJsonObject().getString("task_id"));
    }
    assertEquals(200, ids.size(), "every task has its own id");
    TestRedis.eventually(Duration.ofSeconds(1), "all tasks stored",
        () -> ids.stream().allMatch(id -> TestRedis.exists(redis, keys.task(id))));
  }
}
