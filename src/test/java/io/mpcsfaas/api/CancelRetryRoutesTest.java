package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.task.TaskOutcome;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /cancel}, {@code max_retries} and {@code retry_delay} at the API, against a real Redis, no dispatcher. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CancelRetryRoutesTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  WebClient http;
  String deployment;
  String fid;

  @BeforeAll
  static void makePayloads() {
    payloads = Py.payloads(String.join("\n", "out['fn'] = enc(lambda x: x * 2)", "out['args'] = enc(((1,), {}))"));
  }

  @BeforeEach
  void freshApi() {
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix()));
    deployment = api.deploymentId();
    http = shared.webClient(api.port());
    fid = register(new JsonObject());
  }

  @AfterEach
  void cleanUp() {
    shared.undeploy(deployment);
    http.close();
  }

  private HttpResponse<Buffer> post(String path, JsonObject body) {
    return await(http.post(path).timeout(10_000).sendJsonObject(body));
  }

  private String register(JsonObject extra) {
    HttpResponse<Buffer> response = post("/register_function",
        new JsonObject().put("name", "double").put("payload", payloads.getString("fn")).mergeIn(extra));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("function_id");
  }

  private JsonObject execution(JsonObject extra) {
    return new JsonObject().put("function_id", fid).put("payload", payloads.getString("args")).mergeIn(extra);
  }

  private String execute(JsonObject extra) {
    HttpResponse<Buffer> response = post("/execute_function", execution(extra));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  private static JsonObject assertError(int status, HttpResponse<Buffer> response) {
    assertEquals(status, response.statusCode(), response.bodyAsString());
    JsonObject body = response.bodyAsJsonObject();
    assertTrue(body.getValue("error") instanceof String, response.bodyAsString());
    return body;
  }

  @Test
  void cancellingAQueuedTaskAnswersItsEndAndResultSaysCancelled() {
    String id = execute(new JsonObject());
    HttpResponse<Buffer> cancelled = post("/cancel/" + id, null);
    assertEquals(200, cancelled.statusCode(), cancelled.bodyAsString());
    assertEquals(new JsonObject().put("task_id", id).put("status", "FAILED").put("cancelled", true),
        cancelled.bodyAsJsonObject());

    JsonObject result = await(http.get("/result/" + id).send()).bodyAsJsonObject();
    assertEquals("FAILED", result.getString("status"));
    assertEquals(Boolean.TRUE, result.getBoolean("cancelled"));
    assertEquals(TaskOutcome.CANCELLED.result(), result.getString("result"));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()), "it never starts");
  }

  @Test
  void refusalsChangeNothing() {
    String ended = execute(new JsonObject());
    post("/cancel/" + ended, null);
    String queued = execute(new JsonObject());
    Map<String, String> before = hash(queued);
    long keysBefore = TestRedis.dbsize(redis);

    assertError(409, post("/cancel/" + ended, null));
    assertError(404, post("/cancel/00000000-0000-0000-0000-000000000000", null));
    assertError(400, post("/cancel/not-a-uuid", null));
    assertError(400, post("/cancel", new JsonObject().put("task_ids", new JsonArray().add(queued).add("x"))));
    assertError(400, post("/cancel", new JsonObject().put("task_ids", new JsonArray())));
    assertError(400, post("/cancel", new JsonObject().put("task_ids", new JsonArray().add(queued).add(7))));
    assertError(400, post("/cancel", new JsonObject()));

    assertEquals(before, hash(queued));
    assertEquals(keysBefore, TestRedis.dbsize(redis));
    JsonObject result = await(http.get("/result/" + queued).send()).bodyAsJsonObject();
    assertEquals(Boolean.FALSE, result.getBoolean("cancelled"), "false for a task not cancelled");
  }

  @Test
  void cancellingManyAnswersOneEntryEach() {
    String queued = execute(new JsonObject());
    String ended = execute(new JsonObject());
    post("/cancel/" + ended, null);
    String unknown = "00000000-0000-0000-0000-000000000000";
    HttpResponse<Buffer> response = post("/cancel",
        new JsonObject().put("task_ids", new JsonArray().add(queued).add(ended).add(unknown)));
    assertEquals(200, response.statusCode(), response.bodyAsString());
    JsonArray results = response.bodyAsJsonObject().getJsonArray("results");

    assertEquals(new JsonObject().put("task_id", queued).put("status", "FAILED").put("cancelled", true),
        results.getJsonObject(0));
    assertEquals(ended, results.getJsonObject(1).getString("task_id"));
    assertTrue(results.getJsonObject(1).getString("error").contains("already ended"));
    assertEquals(new JsonObject().put("task_id", unknown).put("error", "task not found"), results.getJsonObject(2));
  }

  @Test
  void retriesAreStoredWithTheTaskOrTakenFromTheFunction() {
    String given = execute(new JsonObject().put("max_retries", 2).put("retry_delay", 0.5));
    assertEquals("2", hash(given).get("max_retries"));
    assertEquals("0.5", hash(given).get("retry_delay"));

    fid = register(new JsonObject().put("max_retries", 4).put("retry_delay", 3));
    String inherited = execute(new JsonObject());
    assertEquals("4", hash(inherited).get("max_retries"));
    assertEquals("3.0", hash(inherited).get("retry_delay"));

    HttpResponse<Buffer> batch = post("/execute_function/batch", new JsonObject().put("function_id", fid)
        .put("payloads", new JsonArray().add(payloads.getString("args"))).put("max_retries", 0));
    assertEquals(201, batch.statusCode(), batch.bodyAsString());
    String batched = batch.bodyAsJsonObject().getJsonArray("task_ids").getString(0);
    assertNull(hash(batched).get("max_retries"), "0 overrides the function's default");
    assertEquals("3.0", hash(batched).get("retry_delay"));
  }

  @Test
  void anythingElseForTheRetryFieldsIsRefusedAndStoresNothing() {
    List<JsonObject> bad = List.of(new JsonObject().put("max_retries", -1), new JsonObject().put("max_retries", 11),
        new JsonObject().put("max_retries", 1.5), new JsonObject().put("max_retries", "2"),
        new JsonObject().put("max_retries", true), new JsonObject().put("max_retries", 1L << 40),
        new JsonObject().put("max_retries", new JsonArray()), new JsonObject().put("retry_delay", -0.1),
        new JsonObject().put("retry_delay", "1"), new JsonObject().put("retry_delay", false),
        new JsonObject().put("retry_delay", new JsonObject()));
    long keysBefore = TestRedis.dbsize(redis);
    for (JsonObject fields : bad) {
      JsonObject error = assertError(400, post("/execute_function", execution(fields)));
      assertFalse(error.getString("error").isBlank());
      assertError(400, post("/execute_function/batch", new JsonObject().put("function_id", fid)
          .put("payloads", new JsonArray().add(payloads.getString("args"))).mergeIn(fields)));
      assertError(400, post("/register_function", new JsonObject().put("name", "f")
          .put("payload", payloads.getString("fn")).mergeIn(fields)));
    }
    assertEquals(keysBefore, TestRedis.dbsize(redis));
  }
}
