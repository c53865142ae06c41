package io.mpcsfaas.dispatch;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TaskRecord;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher end to end in local mode: Redis queue -> real Python interpreters -> outcome in Redis. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DispatcherVerticleTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  Redis redis;
  Keys keys;
  TaskStore store;
  String name;
  final List<String> deployments = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['args'] = [enc(((i,), {})) for i in range(30)]",
        "def boom(x):",
        "    raise ZeroDivisionError('no %d' % x)",
        "out['raise'] = enc(boom)",
        "def slow_double(x):",
        "    import time",
        "    time.sleep(3)",
        "    return x * 2",
        "out['slow_double'] = enc(slow_double)",
        "def nap_double(x):",
        "    import time",
        "    time.sleep(0.05)",
        "    return x * 2",
        "out['nap_double'] = enc(nap_double)",
        "def sleep30(x):",
        "    import time",
        "    time.sleep(30)",
        "out['sleep30'] = enc(sleep30)"));
  }

  @BeforeEach
  void freshKeySpace() {
    redis = shared.client();
    String tag = TestRedis.randomTag();
    keys = new Keys("d" + tag + ":");
    store = new TaskStore(redis, keys);
    name = "dispatcher-" + tag;
  }

  @AfterEach
  void undeployAll() {
    for (String id : new ArrayList<>(deployments)) {
      undeploy(id);
    }
    await(redis.close());
  }

  private JsonObject config() {
    return new JsonObject()
        .put("redis.url", shared.server().url())
        .put("redis.prefix", keys.prefix())
        .put("mode", "local")
        .put("workers", 2)
        .put("task.timeout", 30)
        .put("python", Py.python())
        .put("dispatcher.name", name)
        .put("dispatcher.max_attempts", 3);
  }

  private String deploy(JsonObject config) {
    String id = shared.deploy(new DispatcherVerticle(), config);
    deployments.add(id);
    return id;
  }

  private void undeploy(String id) {
    deployments.remove(id);
    shared.undeploy(id);
  }

  private String register(String function) {
    return await(store.registerFunction(function, payloads.getString(function)));
  }

  private String submit(String functionId, int arg, Integer timeout) {
    return await(TaskSteps.createTask(store, functionId, payloads.getJsonArray("args").getString(arg), timeout));
  }

  private TaskRecord waitForEnd(String taskId, Duration timeout) {
    TaskRecord[] last = new TaskRecord[1];
    try {
      TestRedis.eventually(timeout, "task " + taskId + " ends", () -> {
        last[0] = await(store.task(taskId));
        return last[0].status().isTerminal();
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; last seen " + last[0] + " " + hash(taskId), e);
    }
    return last[0];
  }

  private Map<String, String> hash(String taskId) {
    return TestRedis.hash(redis, keys.task(taskId));
  }

  @Test
  void runsTasksQueuedBeforeItStartedAndThoseQueuedAfterARestart() {
    String fid = register("double");
    List<String> tasks = List.of(submit(fid, 21, null), submit(fid, 1, null), submit(fid, 5, null));

    String first = deploy(config());
    List<String> results = new ArrayList<>();
    for (String task : tasks) {
      TaskRecord record = waitForEnd(task, Duration.ofSeconds(30));
      assertEquals(TaskStatus.COMPLETED, record.status(), record.toString());
      results.add(record.result());
      assertEquals("1", hash(task).get("attempts"));
    }
    JsonArray decoded = Py.describeAll(results);
    assertEquals("42", decoded.getJsonObject(0).getString("repr"));
    assertEquals("2", decoded.getJsonObject(1).getString("repr"));
    assertEquals("10", decoded.getJsonObject(2).getString("repr"));
    TestRedis.eventually(Duration.ofSeconds(5), "queue emptied", () -> TestRedis.xlen(redis, keys.queue()) == 0);
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));

    // Without a dispatcher a task waits in the queue...
    undeploy(first);
    String later = submit(fid, 4, null);
    TestRedis.holdsFor(Duration.ofSeconds(1), "the task stays QUEUED without a dispatcher",
        () -> await(store.task(later)).status() == TaskStatus.QUEUED);
    // ...until a dispatcher (the same one, restarted) takes it.
    deploy(config());
    TaskRecord record = waitForEnd(later, Duration.ofSeconds(30));
    assertEquals(TaskStatus.COMPLETED, record.status(), record.toString());
    assertEquals("8", Py.describe(record.result()).getString("repr"));
  }

  @Test
  void aTaskHeldByACrashedDispatcherRunsAgainWhenItRestarts() {
    String fid = register("double");
    String taskId = submit(fid, 21, null);

    // The "crashed" dispatcher: claimed and started the task, never finished it.
    TaskQueue crashed = new TaskQueue(redis, keys, name, 0);
    await(crashed.ensureGroup());
    List<QueueEntry> claimed = await(crashed.claim(10, 100, false));
    assertEquals(1, claimed.size());
    StartedTask started = await(TaskSteps.start(crashed, claimed.get(0), name, 3, "x", "y"));
    assertNotNull(started);
    assertEquals("RUNNING", hash(taskId).get("status"));

    deploy(config());
    TaskRecord record = waitForEnd(taskId, Duration.ofSeconds(30));
    assertEquals(TaskStatus.COMPLETED, record.status(), record.toString());
    assertEquals("42", Py.describe(record.result()).getString("repr"));
    assertEquals("2", hash(taskId).get("attempts"), "the lost attempt counts");
    TestRedis.eventually(Duration.ofSeconds(5), "entry acked",
        () -> TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP) == 0);
  }

  @Test
  void aTaskLostTooOftenFailsWithoutRunning() {
    String fid = register("double");
    String taskId = submit(fid, 21, null);
    TaskQueue crashed = new TaskQueue(redis, keys, name, 0);
    await(crashed.ensureGroup());
    QueueEntry entry = await(crashed.claim(10, 100, false)).get(0);
    await(TaskSteps.start(crashed, entry, name, 1, "x", "y"));

    deploy(config().put("dispatcher.max_attempts", 1));
    TaskRecord record = waitForEnd(taskId, Duration.ofSeconds(30));
    assertEquals(TaskStatus.FAILED, record.status());
    JsonObject exception = Py.describe(record.result());
    assertEquals("RuntimeError", exception.getString("type"));
    assertTrue(exception.getString("str").contains("max_attempts"), exception.encode());
    assertTrue(record.error().startsWith("RuntimeError: "), record.error());
    assertEquals("1", hash(taskId).get("attempts"));
  }

  @Test
  void userErrorsAndTimeoutsAreStoredAsFailures() {
    String boom = register("raise");
    String sleeper = register("sleep30");
    String double_ = register("double");
    String raising = submit(boom, 3, null);
    String timingOut = submit(sleeper, 1, 1);
    String fine = submit(double_, 6, null);

    deploy(config());
    TaskRecord raised = waitForEnd(raising, Duration.ofSeconds(30));
    assertEquals(TaskStatus.FAILED, raised.status());
    assertEquals("ZeroDivisionError", Py.describe(raised.result()).getString("type"));
    assertTrue(raised.error().contains("ZeroDivisionError: no 3"), raised.error());

    TaskRecord timedOut = waitForEnd(timingOut, Duration.ofSeconds(15));
    assertEquals(TaskStatus.FAILED, timedOut.status());
    assertEquals("TimeoutError", Py.describe(timedOut.result()).getString("type"));
    assertEquals("1", hash(timingOut).get("attempts"), "a timeout is the task's failure, not a lost worker");

    TaskRecord ok = waitForEnd(fine, Duration.ofSeconds(30));
    assertEquals(TaskStatus.COMPLETED, ok.status());
    assertEquals("12", Py.describe(ok.result()).getString("repr"));
  }

  @Test
  void twoDispatchersShareTheQueueAndRunEachTaskOnce() {
    // 30 naps of 50 ms keep the first dispatcher busy while the second starts its interpreter.
    String fid = register("nap_double");
    List<String> tasks = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      tasks.add(submit(fid, i, null));
    }
    // Without prefetch, the first dispatcher cannot claim every task before the second starts.
    deploy(config().put("dispatcher.name", name + "-a").put("workers", 1).put("dispatcher.prefetch", 0));
    deploy(config().put("dispatcher.name", name + "-b").put("workers", 1).put("dispatcher.prefetch", 0));
    List<String> results = new ArrayList<>();
    java.util.Set<String> consumers = new java.util.HashSet<>();
    for (String task : tasks) {
      TaskRecord record = waitForEnd(task, Duration.ofSeconds(30));
      assertEquals(TaskStatus.COMPLETED, record.status(), record.toString());
      assertEquals("1", hash(task).get("attempts"));
      consumers.add(hash(task).get("worker"));
      results.add(record.result());
    }
    JsonArray decoded = Py.describeAll(results);
    for (int i = 0; i < tasks.size(); i++) {
      assertEquals(Integer.toString(2 * i), decoded.getJsonObject(i).getString("repr"));
    }
    assertEquals(2, consumers.size(), "both dispatchers took part: " + consumers);
  }

  @Test
  void stoppingADispatcherMidTaskDoesNotFailTheTask() {
    String fid = register("slow_double");
    String taskId = submit(fid, 21, null);
    String first = deploy(config());
    TestRedis.eventually(Duration.ofSeconds(15), "the task starts",
        () -> await(store.task(taskId)).status() == TaskStatus.RUNNING);
    undeploy(first); // a clean stop while the task runs

    // The task was not finished: it must not be stored as failed by the shutdown.
    TestRedis.holdsFor(Duration.ofSeconds(1), "the task stays RUNNING (pending) after the stop",
        () -> await(store.task(taskId)).status() == TaskStatus.RUNNING);

    deploy(config());
    TaskRecord record = waitForEnd(taskId, Duration.ofSeconds(30));
    assertEquals(TaskStatus.COMPLETED, record.status(), record + " " + hash(taskId));
    assertEquals("42", Py.describe(record.result()).getString("repr"));
    assertEquals("2", hash(taskId).get("attempts"));
  }

  @Test
  void aRedisRestartDoesNotStopTheDispatcher(@TempDir Path ownDir) throws Exception {
    try (TestRedis own = TestRedis.start(ownDir, true)) {
      Redis ownClient = own.client(shared.vertx());
      try {
        TaskStore ownStore = new TaskStore(ownClient, keys);
        String fid = await(ownStore.registerFunction("double", payloads.getString("double")));
        deploy(config().put("redis.url", own.url()));
        String before = await(TaskSteps.createTask(ownStore, fid, payloads.getJsonArray("args").getString(2), null));
        TestRedis.eventually(Duration.ofSeconds(30), "first task completes",
            () -> await(ownStore.task(before)).status() == TaskStatus.COMPLETED);

        own.kill();
        TestRedis.pause(300); // the dispatcher notices while Redis is away
        own.restart();

        String after = await(TaskSteps.createTask(ownStore, fid, payloads.getJsonArray("args").getString(3), null));
        TestRedis.eventually(Duration.ofSeconds(20), "a task queued after the restart completes",
            () -> await(ownStore.task(after)).status() == TaskStatus.COMPLETED);
        assertEquals("6", Py.describe(await(ownStore.task(after)).result()).getString("repr"));
      } finally {
        for (String id : new ArrayList<>(deployments)) {
          undeploy(id);
        }
        await(ownClient.close());
      }
    }
  }

  @Test
  void aRedisRestartThatLostItsDataDoesNotStopTheDispatcher(@TempDir Path ownDir) throws Exception {
    // A Redis without persistence restarts empty: the queue stream and its consumer group are gone.
    try (TestRedis own = TestRedis.start(ownDir, false)) {
      Redis ownClient = own.client(shared.vertx());
      try {
        TaskStore ownStore = new TaskStore(ownClient, keys);
        deploy(config().put("redis.url", own.url()));
        String fid = await(ownStore.registerFunction("double", payloads.getString("double")));
        String before = await(TaskSteps.createTask(ownStore, fid, payloads.getJsonArray("args").getString(2), null));
        TestRedis.eventually(Duration.ofSeconds(30), "first task completes",
            () -> await(ownStore.task(before)).status() == TaskStatus.COMPLETED);

        own.kill();
        own.restart();
        String fid2 = await(ownStore.registerFunction("double", payloads.getString("double")));
        String after = await(TaskSteps.createTask(ownStore, fid2, payloads.getJsonArray("args").getString(7), null));
        TaskRecord[] last = new TaskRecord[1];
        try {
          TestRedis.eventually(Duration.ofSeconds(10), "a task queued after the empty restart completes", () -> {
            last[0] = await(ownStore.task(after));
            return last[0].status() == TaskStatus.COMPLETED;
          });
        } catch (AssertionError e) {
          throw new AssertionError(e.getMessage() + "; last seen " + last[0], e);
        }
        assertEquals("14", Py.describe(last[0].result()).getString("repr"));
      } finally {
        for (String id : new ArrayList<>(deployments)) {
          undeploy(id);
        }
        await(ownClient.close());
      }
    }
  }
}
