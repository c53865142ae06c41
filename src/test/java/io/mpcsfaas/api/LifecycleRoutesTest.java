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
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
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
 * The function lifecycle (idempotent registration, {@code ?name=}, delete) and the task index
 * ({@code GET /tasks}) over HTTP, against a real Redis; the tests play the dispatcher through {@link TaskQueue}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LifecycleRoutesTest extends KeySpaceTest {
  private static final String JSON = "application/json";
  private static final long RESULT_TTL = 1234;
  /** The fields of an entry of {@code /tasks}. */
  private static final Set<String> TASK_FIELDS = Set.of("task_id", "function_id", "status", "created_at",
      "started_at", "finished_at", "attempts", "worker");

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  TaskQueue queue;
  WebClient http;
  String deployment;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['triple'] = enc(lambda x: x * 3)",
        "out['args'] = enc(((1,), {}))",
        "out['result'] = enc(2)",
        "out['error'] = enc(ValueError('bad'))"));
  }

  @BeforeEach
  void freshApi() {
    queue = queue("lifecycle-test");
    await(queue.ensureGroup());
    RedisAndVertx.DeployedApi api = shared.deployApi(new JsonObject().put("redis.prefix", keys.prefix())
        .put("task.result_ttl", RESULT_TTL));
    deployment = api.deploymentId();
    http = shared.webClient(api.port());
  }

  @AfterEach
  void cleanUp() {
    shared.undeploy(deployment);
    http.close();
  }

  // ---------------------------------------------------------------- functions

  @Test
  void registeringTheSameFunctionAgainAnswersItsIdAndNamesFilterTheList() {
    String first = registerOverHttp("double", "double");
    assertEquals(first, registerOverHttp("double", "double"), "same name and payload: same id");
    String other = registerOverHttp("double", "triple");
    String renamed = registerOverHttp("twice", "double");
    assertNotEquals(first, other);
    assertNotEquals(first, renamed);

    assertEquals(List.of(other, first), functionIds(get("/functions?name=double")));
    assertEquals(List.of(other), functionIds(get("/functions?name=double&limit=1")));
    assertEquals(List.of(first), functionIds(get("/functions?name=double&limit=1&offset=1")));
    assertEquals(List.of(renamed), functionIds(get("/functions?name=twice")));
    assertEquals(List.of(), functionIds(get("/functions?name=" + encode("no such name / ?&"))));
    assertEquals(3, functionIds(get("/functions")).size(), "without a name: every function, once");
    assertError(400, get("/functions?name=double&limit=0"));
  }

  @Test
  void aDeletedFunctionRefusesNewTasksWhileThoseSubmittedBeforeStillRun() {
    String fid = registerOverHttp("double", "double");
    String before = execute(fid);

    HttpResponse<Buffer> deleted = await(http.delete("/functions/" + fid).send());
    assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
    assertNull(deleted.body(), "no body");

    assertError(404, get("/functions/" + fid));
    assertError(404, get("/functions/" + fid + "?payload=true"));
    assertFalse(functionIds(get("/functions")).contains(fid));
    assertEquals(List.of(), functionIds(get("/functions?name=double")));
    long keysBefore = TestRedis.dbsize(redis);
    long queueBefore = TestRedis.xlen(redis, keys.queue());
    assertError(404, post("/execute_function", new JsonObject().put("function_id", fid)
        .put("payload", payloads.getString("args"))));
    assertError(404, post("/execute_function/batch", new JsonObject().put("function_id", fid)
        .put("payloads", new JsonArray().add(payloads.getString("args")))));
    assertError(404, post("/execute_function?wait=1", new JsonObject().put("function_id", fid)
        .put("payload", payloads.getString("args"))));
    assertEquals(keysBefore, TestRedis.dbsize(redis), "nothing stored for a refused task");
    assertEquals(queueBefore, TestRedis.xlen(redis, keys.queue()));
    long ttl = TestRedis.cmd(redis, Command.TTL, keys.function(fid)).toLong();
    assertTrue(ttl > RESULT_TTL - 60 && ttl <= RESULT_TTL, "the function is kept for the result TTL: " + ttl);

    List<QueueEntry> claimed = await(queue.claim(10, 0, false));
    assertEquals(List.of(before), claimed.stream().map(QueueEntry::taskId).toList());
    StartedTask started = await(TaskSteps.start(queue, claimed.get(0), "w1", 3, payloads.getString("error"), "gave up"));
    assertNotNull(started, "the task submitted before the delete starts");
    assertEquals(payloads.getString("double"), started.spec().functionPayload());

    assertError(404, await(http.delete("/functions/" + fid).send()));
    assertError(404, await(http.delete("/functions/" + UUID.randomUUID()).send()));
    assertError(400, await(http.delete("/functions/not-a-uuid").send()));
    assertEquals(keysBefore, TestRedis.dbsize(redis));
  }

  // ---------------------------------------------------------------- task index

  @Test
  void tasksArePagedNewestFirstWithTheFiltersCombined() {
    String fa = registerOverHttp("double", "double");
    String fb = registerOverHttp("triple", "triple");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(execute(fa));
      ids.add(execute(fb));
    }
    ids.addAll(batch(fa, 5)); // created at the same time
    Map<String, QueueEntry> entries = claimAndStart(ids.get(0), ids.get(1), ids.get(2), ids.get(6), ids.get(7),
        ids.get(8));
    finish(entries.get(ids.get(0)), TaskStatus.COMPLETED);
    finish(entries.get(ids.get(1)), TaskStatus.FAILED);
    finish(entries.get(ids.get(6)), TaskStatus.FAILED);
    finish(entries.get(ids.get(7)), TaskStatus.COMPLETED);

    String[] statuses = {null, "QUEUED", "RUNNING", "COMPLETED", "FAILED"};
    for (String status : statuses) {
      for (String fid : new String[] {null, fa, fb}) {
        List<String> want = expected(ids, status, fid);
        String query = (status == null ? "" : "&status=" + status) + (fid == null ? "" : "&function_id=" + fid);
        for (int limit : new int[] {1, 2, 1000}) {
          List<JsonObject> got = allPages("/tasks?limit=" + limit + query, limit);
          assertEquals(want, got.stream().map(t -> t.getString("task_id")).toList(), query + " limit " + limit);
          for (JsonObject t : got) {
            Map<String, String> stored = TestRedis.hash(redis, keys.task(t.getString("task_id")));
            assertEquals(TASK_FIELDS, t.fieldNames(), t.encode());
            assertEquals(stored.get("status"), t.getString("status"));
            assertEquals(stored.get("function_id"), t.getString("function_id"));
            assertEquals(Double.parseDouble(stored.get("created_at")), t.getDouble("created_at"));
            assertEquals(stored.get("worker"), t.getString("worker"));
            assertEquals(Integer.parseInt(stored.get("attempts")), t.getInteger("attempts"));
            if (stored.get("finished_at") == null) {
              assertNull(t.getValue("finished_at"));
            } else {
              assertEquals(Double.parseDouble(stored.get("finished_at")), t.getDouble("finished_at"));
            }
          }
        }
      }
    }
    assertEquals(2, expected(ids, "FAILED", null).size(), "every status is covered");
    assertEquals(List.of(ids.get(6), ids.get(1)), expected(ids, "FAILED", null), "newest first");
  }

  @Test
  void aPageHoldsFiftyTasksByDefault() {
    String fa = registerOverHttp("double", "double");
    batch(fa, 52);
    JsonObject first = get("/tasks").bodyAsJsonObject();
    assertEquals(50, first.getJsonArray("tasks").size());
    assertNotNull(first.getString("next_cursor"));
    JsonObject second = get("/tasks?cursor=" + first.getString("next_cursor")).bodyAsJsonObject();
    assertEquals(2, second.getJsonArray("tasks").size());
    assertTrue(second.containsKey("next_cursor"));
    assertNull(second.getValue("next_cursor"), "null at the end");
  }

  @Test
  void transitionsMoveTasksBetweenStatusPagesAndExpiredTasksDisappear() {
    String fa = registerOverHttp("double", "double");
    String a = execute(fa);
    String b = execute(fa);
    assertEquals(List.of(b, a), taskIds(get("/tasks?status=QUEUED")));

    Map<String, QueueEntry> entries = claimAndStart(a);
    assertEquals(List.of(b), taskIds(get("/tasks?status=QUEUED")));
    assertEquals(List.of(a), taskIds(get("/tasks?status=RUNNING&function_id=" + fa)));
    finish(entries.get(a), TaskStatus.FAILED);
    assertEquals(List.of(), taskIds(get("/tasks?status=RUNNING")));
    assertEquals(List.of(a), taskIds(get("/tasks?status=FAILED")));
    assertEquals(List.of(b, a), taskIds(get("/tasks")));

    TestRedis.cmd(redis, Command.DEL, keys.task(a)); // as its expiry does
    assertEquals(List.of(), taskIds(get("/tasks?status=FAILED")));
    assertEquals(List.of(b), taskIds(get("/tasks")));
    assertEquals(List.of(b), taskIds(get("/tasks?function_id=" + fa)));
    assertEquals(List.of(), taskIds(get("/tasks?function_id=" + UUID.randomUUID())), "an unknown function has none");
  }

  @Test
  void badParametersAre400AndChangeNothing() {
    String fa = registerOverHttp("double", "double");
    batch(fa, 3);
    String cursor = get("/tasks?limit=1").bodyAsJsonObject().getString("next_cursor");
    assertNotNull(cursor);
    long keysBefore = TestRedis.dbsize(redis);
    long indexed = TestRedis.cmd(redis, Command.ZCARD, keys.statusIndex("QUEUED")).toLong();
    String junk = Base64.getUrlEncoder().encodeToString("1700000000.5:nope".getBytes(StandardCharsets.UTF_8));

    for (String query : List.of("status=DONE", "status=queued", "status=", "limit=0", "limit=1001", "limit=abc",
        "limit=", "limit=1.5", "cursor=", "cursor=%21%21", "cursor=" + junk, "cursor=" + cursor + "x",
        "function_id=nope", "function_id=", "status=QUEUED&limit=-1", "function_id=" + fa + "&cursor=abc")) {
      HttpResponse<Buffer> response = get("/tasks?" + query);
      assertError(query, 400, response);
    }
    assertEquals(keysBefore, TestRedis.dbsize(redis));
    assertEquals(indexed, TestRedis.cmd(redis, Command.ZCARD, keys.statusIndex("QUEUED")).toLong());
    assertEquals(200, get("/tasks?limit=1000&cursor=" + cursor).statusCode());
  }

  // ---------------------------------------------------------------- helpers

  /** Follows next_cursor to the end; checks that only the last page is short and has a null cursor. */
  private List<JsonObject> allPages(String first, int limit) {
    List<JsonObject> out = new ArrayList<>();
    String path = first;
    for (int pages = 0; pages < 100; pages++) {
      HttpResponse<Buffer> response = get(path);
      assertEquals(200, response.statusCode(), response.bodyAsString());
      JsonObject page = response.bodyAsJsonObject();
      JsonArray tasks = page.getJsonArray("tasks");
      tasks.forEach(t -> out.add((JsonObject) t));
      assertTrue(page.containsKey("next_cursor"), page.encode());
      String next = page.getString("next_cursor");
      if (next == null) {
        return out;
      }
      assertEquals(limit, tasks.size(), "only the last page is short");
      path = first + "&cursor=" + next;
    }
    throw new AssertionError("no end of the pages");
  }

  /** The tasks as Redis holds them, newest first (equal times: greater id first), filtered. */
  private List<String> expected(List<String> ids, String status, String fid) {
    List<Map<String, String>> tasks = new ArrayList<>();
    for (String id : ids) {
      Map<String, String> t = TestRedis.hash(redis, keys.task(id));
      t.put("id", id);
      if ((status == null || status.equals(t.get("status"))) && (fid == null || fid.equals(t.get("function_id")))) {
        tasks.add(t);
      }
    }
    tasks.sort(Comparator.<Map<String, String>>comparingDouble(t -> Double.parseDouble(t.get("created_at")))
        .thenComparing(t -> t.get("id")).reversed());
    return tasks.stream().map(t -> t.get("id")).toList();
  }

  private String registerOverHttp(String name, String function) {
    HttpResponse<Buffer> response = post("/register_function",
        new JsonObject().put("name", name).put("payload", payloads.getString(function)));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("function_id");
  }

  private String execute(String functionId) {
    HttpResponse<Buffer> response = post("/execute_function",
        new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args")));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getString("task_id");
  }

  private List<String> batch(String functionId, int n) {
    JsonArray args = new JsonArray();
    for (int i = 0; i < n; i++) {
      args.add(payloads.getString("args"));
    }
    HttpResponse<Buffer> response = post("/execute_function/batch",
        new JsonObject().put("function_id", functionId).put("payloads", args));
    assertEquals(201, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getJsonArray("task_ids").stream().map(Object::toString).toList();
  }

  /** Plays the dispatcher: claims every queue entry and moves those of these tasks to RUNNING. */
  private Map<String, QueueEntry> claimAndStart(String... taskIds) {
    Map<String, QueueEntry> found = new HashMap<>();
    for (QueueEntry entry : await(queue.claim(1000, 0, false))) {
      found.put(entry.taskId(), entry);
    }
    for (String taskId : taskIds) {
      assertNotNull(await(TaskSteps.start(queue, found.get(taskId), queue.consumer(), 3, "x", "y")), taskId);
    }
    return found;
  }

  private void finish(QueueEntry entry, TaskStatus status) {
    boolean ok = status == TaskStatus.COMPLETED;
    assertTrue(await(TaskSteps.finish(queue, entry, status,
        payloads.getString(ok ? "result" : "error"), ok ? null : "ValueError: bad", "w1")));
  }

  private HttpResponse<Buffer> post(String path, JsonObject body) {
    return await(http.post(path).timeout(10_000).sendJsonObject(body));
  }

  private HttpResponse<Buffer> get(String path) {
    return await(http.get(path).timeout(10_000).send());
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static List<String> functionIds(HttpResponse<Buffer> response) {
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getJsonArray("functions").stream()
        .map(f -> ((JsonObject) f).getString("function_id")).toList();
  }

  private static List<String> taskIds(HttpResponse<Buffer> response) {
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject().getJsonArray("tasks").stream()
        .map(t -> ((JsonObject) t).getString("task_id")).toList();
  }

}
