package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Redis;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What tasks print, over HTTP ({@code /output}, {@code ?follow=true}, and the output fields of {@code /result})
 * against a real Redis; the tests play the dispatcher through {@link TaskQueue}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OutputRoutesTest {
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  Redis redis;
  TaskQueue queue;
  WebClient http;
  int port;
  String deployment;
  String functionId;

  @BeforeAll
  static void setUp() {
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((1,), {}))",
        "out['result'] = enc(2)"));
  }

  @BeforeEach
  void freshApi() {
    redis = shared.client();
    Keys keys = new Keys("o" + TestRedis.randomTag() + ":");
    queue = new TaskQueue(redis, keys, "output-test", 0);
    await(queue.ensureGroup());
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix()));
    deployment = api.deploymentId();
    port = api.port();
    http = shared.webClient(port);
    HttpResponse<Buffer> registered = await(http.post("/register_function").sendJsonObject(
        new JsonObject().put("name", "double").put("payload", payloads.getString("double"))));
    functionId = registered.bodyAsJsonObject().getString("function_id");
  }

  @AfterEach
  void cleanUp() {
    shared.undeploy(deployment);
    http.close();
    await(redis.close());
  }

  @Test
  void outputShowsWhatARunningTaskPrintedSoFarAndResultWhatItPrintedInTheEnd() {
    String id = execute();
    assertEquals(new JsonObject().put("task_id", id).put("status", "QUEUED").put("stdout", "").put("stderr", "")
        .put("output_truncated", false), getJson("/output/" + id));

    QueueEntry entry = start(id);
    await(queue.storeOutput(id, new TaskOutput("step 1\n", "warning\n", false)));
    assertEquals(new JsonObject().put("task_id", id).put("status", "RUNNING").put("stdout", "step 1\n")
        .put("stderr", "warning\n").put("output_truncated", false), getJson("/output/" + id));
    assertEquals("step 1\n", getJson("/result/" + id).getString("stdout"), "/result shows it too while it runs");

    finish(entry, new TaskOutput("step 1\nstep 2\n", "warning\n", true));
    JsonObject result = getJson("/result/" + id);
    assertEquals("COMPLETED", result.getString("status"));
    assertEquals("step 1\nstep 2\n", result.getString("stdout"));
    assertEquals("warning\n", result.getString("stderr"));
    assertEquals(true, result.getBoolean("output_truncated"));
    assertEquals(result.getString("stdout"), getJson("/output/" + id).getString("stdout"));
  }

  @Test
  void aTaskThatPrintedNothingHasEmptyOutputInResult() {
    String id = execute();
    finish(start(id), TaskOutput.NONE);
    JsonObject result = getJson("/result/" + id + "?wait=5");
    assertEquals("COMPLETED", result.getString("status"));
    assertEquals("", result.getString("stdout"));
    assertEquals("", result.getString("stderr"));
    assertEquals(false, result.getBoolean("output_truncated"));
  }

  @Test
  void malformedIdsUnknownTasksAndBadFollowValuesAreRefusedAsJson() {
    String unknown = UUID.randomUUID().toString();
    assertError(400, get("/output/not-a-uuid"));
    assertError(400, get("/output/not-a-uuid?follow=true"));
    assertError(404, get("/output/" + unknown));
    assertError(404, get("/output/" + unknown + "?follow=true"));
    assertError(400, get("/output/" + execute() + "?follow=maybe"));
  }

  @Test
  void followStreamsWhatIsPrintedWhileTheTaskRunsAndEndsWhenItEnds() throws Exception {
    String id = execute();
    QueueEntry entry = start(id);
    await(queue.storeOutput(id, new TaskOutput("one\n", "", false)));

    // Read as a blocking stream on a thread of its own: the JDK's client buffers what arrives before it is read,
    // where a Vert.x response's handler, set when its future completes, can miss a chunk that came with the head.
    List<String> events = new CopyOnWriteArrayList<>();
    java.net.http.HttpResponse<InputStream> response = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/output/" + id + "?follow=true"))
            .build(), java.net.http.HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, response.statusCode());
    assertEquals("text/plain; charset=utf-8", response.headers().firstValue("content-type").orElse(null));
    Thread reader = new Thread(() -> {
      byte[] chunk = new byte[4096];
      try (InputStream in = response.body()) {
        for (int n; (n = in.read(chunk)) > 0; ) {
          events.add(new String(chunk, 0, n, StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        events.add("(" + e + ")");
      }
      events.add("(end)");
    }, "follow-reader");
    reader.start();

    TestRedis.eventually(PATIENCE, "the first line", () -> text(events).equals("one\n"));
    await(queue.storeOutput(id, new TaskOutput("one\ntwo\n", "", false)));
    TestRedis.eventually(PATIENCE, "the second line", () -> text(events).equals("one\ntwo\n"));
    assertFalse(events.contains("(end)"), "the response stays open while the task runs");

    finish(entry, new TaskOutput("one\ntwo\nthree\n", "oops\n", false));
    TestRedis.eventually(PATIENCE, "the end of the response", () -> events.contains("(end)"));
    assertEquals("(end)", events.get(events.size() - 1));
    assertEquals("one\ntwo\nthree\noops\n", text(events), "the final remainder, then the end");
  }

  @Test
  void followOfAnEndedTaskAnswersItsOutputAtOnce() {
    String id = execute();
    finish(start(id), new TaskOutput("all\n", "", true));
    HttpResponse<Buffer> followed = get("/output/" + id + "?follow=true");
    assertEquals(200, followed.statusCode());
    assertEquals(OutputCursor.TRUNCATED + "all\n", followed.bodyAsString());
  }

  private static String text(List<String> events) {
    return String.join("", events.stream().filter(e -> !e.equals("(end)")).toList());
  }

  private String execute() {
    HttpResponse<Buffer> response = await(http.post("/execute_function").sendJsonObject(
        new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args"))));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  /** Plays the dispatcher: claims the task's queue entry and moves it to RUNNING. */
  private QueueEntry start(String id) {
    QueueEntry entry = TaskSteps.claim(queue, id).get(id);
    assertNotNull(await(TaskSteps.start(queue, entry, queue.consumer(), 3, "x", "y")));
    return entry;
  }

  private void finish(QueueEntry entry, TaskOutput output) {
    TaskOutcome outcome = TaskOutcome.success(payloads.getString("result")).withOutput(output);
    assertTrue(await(queue.finish(List.of(new FinishedTask(entry, outcome, "w1")))).get(0));
  }

  private HttpResponse<Buffer> get(String path) {
    return await(http.get(path).timeout(10_000).send());
  }

  private JsonObject getJson(String path) {
    HttpResponse<Buffer> response = get(path);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject();
  }

  /** A JSON {"error": "..."} reply with this status. */
  private static void assertError(int status, HttpResponse<Buffer> response) {
    String body = response.bodyAsString();
    assertEquals(status, response.statusCode(), body);
    assertTrue(response.getHeader("content-type").startsWith("application/json"), body);
    JsonObject json = assertInstanceOf(JsonObject.class, Buffer.buffer(body).toJsonValue(), body);
    assertFalse(json.getString("error").isBlank(), body);
  }
}
