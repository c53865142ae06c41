package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.awaitFailure;
import static io.mpcsfaas.TestRedis.cmd;
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
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The client-facing Redis model, checked with raw Redis commands against a real redis-server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskStoreTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['other'] = enc(lambda x: x * 3)",
        "out['args'] = enc(((21,), {}))",
        "out['result'] = enc(42)",
        "out['error'] = enc(ValueError('bad'))"));
  }

  @Test
  void registerFunctionStoresNamePayloadAndCreationTime() {
    double before = System.currentTimeMillis() / 1000.0;
    String id = register("double", payloads.getString("fn"));
    double after = System.currentTimeMillis() / 1000.0;

    assertEquals(id, UUID.fromString(id).toString(), "the id is a canonical UUID");
    Map<String, String> stored = TestRedis.hash(redis, keys.prefix() + "function:" + id);
    assertEquals("double", stored.get("name"));
    assertEquals(payloads.getString("fn"), stored.get("payload"), "payload stored byte for byte");
    double createdAt = Double.parseDouble(stored.get("created_at"));
    assertTrue(createdAt >= before - 1 && createdAt <= after + 1, "created_at is now in epoch seconds: " + createdAt);
    assertEquals(64, stored.get("digest").length(), "sha256 of name and payload, for a delete to find: " + stored);
    assertEquals(4, stored.size(), stored.toString());
    assertNotNull(cmd(redis, Command.ZSCORE, keys.functions(), id), "listed in the functions index");
  }

  // ---------------------------------------------------------------- functions: idempotence, names, delete

  @Test
  void registeringTheSameNameAndPayloadAgainAnswersTheSameId() {
    String id = await(store.registerFunction("double", payloads.getString("fn")));
    long keysBefore = TestRedis.dbsize(redis);

    assertEquals(id, await(store.registerFunction("double", payloads.getString("fn"))));
    assertEquals(keysBefore, TestRedis.dbsize(redis), "nothing new stored");
    assertEquals(1, cmd(redis, Command.ZCARD, keys.functions()).toInteger());

    String otherPayload = await(store.registerFunction("double", payloads.getString("other")));
    String otherName = await(store.registerFunction("twice", payloads.getString("fn")));
    assertEquals(3, Set.of(id, otherPayload, otherName).size(), "another payload or name is another function");
    assertEquals(otherPayload, await(store.registerFunction("double", payloads.getString("other"))));
  }

  @Test
  void concurrentRegistrationsOfOneFunctionAgreeOnItsId() {
    List<Future<String>> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(store.registerFunction("double", payloads.getString("fn")));
    }
    await(Future.all(ids));
    assertEquals(1, ids.stream().map(Future::result).distinct().count());
    assertEquals(1, cmd(redis, Command.ZCARD, keys.functions()).toInteger());
  }

  @Test
  void functionsNamedListsOnlyThatNameNewestFirst() {
    String first = await(store.registerFunction("double", payloads.getString("fn")));
    String other = await(store.registerFunction("twice", payloads.getString("fn")));
    TestRedis.pause(2); // distinct registration times
    String second = await(store.registerFunction("double", payloads.getString("other")));

    List<String> named = await(store.functionsNamed(Tenant.NONE, "double", 0, 10)).stream()
        .map(f -> f.getString("function_id")).toList();
    assertEquals(List.of(second, first), named);
    assertEquals(List.of(second), await(store.functionsNamed(Tenant.NONE, "double", 0, 1)).stream()
        .map(f -> f.getString("function_id")).toList());
    assertEquals(List.of(first), await(store.functionsNamed(Tenant.NONE, "double", 1, 1)).stream()
        .map(f -> f.getString("function_id")).toList());
    assertEquals("twice", await(store.functionsNamed(Tenant.NONE, "twice", 0, 10)).get(0).getString("name"));
    assertEquals(other, await(store.functionsNamed(Tenant.NONE, "twice", 0, 10)).get(0).getString("function_id"));
    assertTrue(await(store.functionsNamed(Tenant.NONE, "nobody", 0, 10)).isEmpty());
    assertEquals(3, await(store.functions(Tenant.NONE, 0, 10)).size(), "the unfiltered list is unchanged");
  }

  @Test
  void aDeletedFunctionTakesNoNewTaskButThoseSubmittedBeforeStillStart() {
    String fid = await(store.registerFunction("double", payloads.getString("fn")));
    String before = await(TaskSteps.createTask(store, fid, payloads.getString("args"), null));

    await(store.deleteFunction(fid, 3600, Tenant.NONE));

    assertInstanceOf(NotFoundException.class, awaitFailure(store.function(fid, false, Tenant.NONE)));
    assertInstanceOf(NotFoundException.class, awaitFailure(store.function(fid, true, Tenant.NONE)));
    long keysBefore = TestRedis.dbsize(redis);
    long queueBefore = TestRedis.xlen(redis, keys.queue());
    assertInstanceOf(NotFoundException.class, awaitFailure(TaskSteps.createTask(store, fid, payloads.getString("args"), null)));
    assertEquals(keysBefore, TestRedis.dbsize(redis), "nothing stored for the refused task");
    assertEquals(queueBefore, TestRedis.xlen(redis, keys.queue()));
    assertTrue(await(store.functions(Tenant.NONE, 0, 10)).isEmpty(), "no longer listed");
    assertTrue(await(store.functionsNamed(Tenant.NONE, "double", 0, 10)).isEmpty(), "no longer listed by name");
    long ttl = cmd(redis, Command.TTL, keys.function(fid)).toLong();
    assertTrue(ttl > 3500 && ttl <= 3600, "kept for the tasks submitted before, then gone: TTL " + ttl);

    TaskQueue queue = new TaskQueue(redis, keys, "d1", 0);
    await(queue.ensureGroup());
    List<QueueEntry> claimed = await(queue.claim(10, 0, false));
    assertEquals(List.of(before), claimed.stream().map(QueueEntry::taskId).toList());
    StartedTask started = await(TaskSteps.start(queue, claimed.get(0), "w1", 3, payloads.getString("error"), "gave up"));
    assertNotNull(started, "the task submitted before the delete starts");
    assertEquals(payloads.getString("fn"), started.spec().functionPayload(), "with its function's payload");

    String again = await(store.registerFunction("double", payloads.getString("fn")));
    assertNotEquals(fid, again, "registering it again makes a new function");
    assertEquals(again, await(store.function(again, false, Tenant.NONE)).getString("function_id"));
  }

  @Test
  void deletingAnUnknownOrDeletedFunctionIsNotFoundAndChangesNothing() {
    assertInstanceOf(NotFoundException.class,
        awaitFailure(store.deleteFunction(UUID.randomUUID().toString(), 60, Tenant.NONE)));
    String fid = await(store.registerFunction("double", payloads.getString("fn")));
    await(store.deleteFunction(fid, 60, Tenant.NONE));
    Map<String, String> deleted = TestRedis.hash(redis, keys.function(fid));
    long keysBefore = TestRedis.dbsize(redis);

    assertInstanceOf(NotFoundException.class, awaitFailure(store.deleteFunction(fid, 0, Tenant.NONE)));
    assertEquals(deleted, TestRedis.hash(redis, keys.function(fid)));
    assertTrue(cmd(redis, Command.TTL, keys.function(fid)).toLong() > 0, "its expiry stays");
    assertEquals(keysBefore, TestRedis.dbsize(redis));
  }

  @Test
  void createTaskWritesHashQueueEntryAndAnnouncementTogether() throws Exception {
    String fid = register("double", payloads.getString("fn"));

    // Subscribe first, on a connection of its own.
    LinkedBlockingQueue<Response> messages = new LinkedBlockingQueue<>();
    RedisConnection subscriber = await(redis.connect());
    try {
      subscriber.handler(messages::add);
      await(subscriber.send(Request.cmd(Command.SUBSCRIBE).arg(Keys.TASKS_CHANNEL)));

      long queueBefore = cmd(redis, Command.EXISTS, keys.queue()).toInteger() == 1
          ? TestRedis.xlen(redis, keys.queue()) : 0;
      String taskId = submit(fid, payloads.getString("args"), null);
      assertEquals(taskId, UUID.fromString(taskId).toString());

      Map<String, String> task = hash(taskId);
      assertEquals("QUEUED", task.get("status"));
      assertEquals("0", task.get("attempts"));
      assertEquals(fid, task.get("function_id"));
      assertEquals(payloads.getString("args"), task.get("payload"));
      assertTrue(task.containsKey("created_at"));
      assertFalse(task.containsKey("timeout"), "no timeout asked for, none stored");

      assertEquals(queueBefore + 1, TestRedis.xlen(redis, keys.queue()));
      Response last = cmd(redis, Command.XREVRANGE, keys.queue(), "+", "-", "COUNT", 1).get(0);
      Response fields = last.get(1);
      assertEquals("task", fields.get(0).toString());
      assertEquals(taskId, fields.get(1).toString());

      Response message = waitForMessage(messages);
      assertEquals("message", message.get(0).toString());
      assertEquals(Keys.TASKS_CHANNEL, message.get(1).toString());
      assertEquals(taskId, message.get(2).toString());
    } finally {
      subscriber.close();
    }
  }

  @Test
  void createTaskStoresTheRequestedTimeout() {
    String fid = register("double", payloads.getString("fn"));
    String taskId = submit(fid, payloads.getString("args"), 7);
    assertEquals("7", hash(taskId).get("timeout"));
  }

  @Test
  void createTaskForAnUnknownFunctionFailsAndWritesNothing() {
    String fid = register("double", payloads.getString("fn"));
    submit(fid, payloads.getString("args"), null);
    long queueBefore = TestRedis.xlen(redis, keys.queue());
    int tasksBefore = TestRedis.countKeys(redis, keys.prefix() + "task:*");
    long keysBefore = TestRedis.dbsize(redis);

    Throwable failure = awaitFailure(TaskSteps.createTask(store, UUID.randomUUID().toString(),
        payloads.getString("args"), null));
    assertInstanceOf(NotFoundException.class, failure);

    assertEquals(queueBefore, TestRedis.xlen(redis, keys.queue()), "no queue entry");
    assertEquals(tasksBefore, TestRedis.countKeys(redis, keys.prefix() + "task:*"), "no task hash");
    assertEquals(keysBefore, TestRedis.dbsize(redis), "no key at all");
  }

  @Test
  void oneCreationCallCreatesTasksOfSeveralFunctionsEachOnItsOwn() {
    String first = register("double", payloads.getString("fn"));
    String second = register("double too", payloads.getString("fn"));
    String unknown = UUID.randomUUID().toString();
    long queueBefore = TestRedis.xlen(redis, keys.queue());
    List<TaskStore.NewTask> tasks = List.of(
        new TaskStore.NewTask(TaskStore.newTaskId(), first, payloads.getString("args"), null),
        new TaskStore.NewTask(TaskStore.newTaskId(), unknown, payloads.getString("args"), null),
        new TaskStore.NewTask(TaskStore.newTaskId(), second, payloads.getString("args"), 9),
        new TaskStore.NewTask(TaskStore.newTaskId(), unknown, payloads.getString("args"), 9));

    assertEquals(List.of(TaskStore.Creation.CREATED, TaskStore.Creation.UNKNOWN_FUNCTION, TaskStore.Creation.CREATED,
        TaskStore.Creation.UNKNOWN_FUNCTION),
        await(store.create(tasks)));

    assertEquals(queueBefore + 2, TestRedis.xlen(redis, keys.queue()), "a queue entry per created task");
    Map<String, String> created = hash(tasks.get(2).id());
    assertEquals(second, created.get("function_id"));
    assertEquals("QUEUED", created.get("status"));
    assertEquals("9", created.get("timeout"));
    assertEquals(TaskStatus.QUEUED, await(store.task(tasks.get(0).id())).status());
    assertTrue(hash(tasks.get(1).id()).isEmpty(), "nothing of a task of no function");
  }

  @Test
  void theDoneAnnouncementCarriesTheEndedTaskAsStored() throws Exception {
    String message = doneMessageOfATaskEndedBy((queue, entry) ->
        TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w1"));
    JsonObject announced = new JsonObject(message.substring(message.indexOf('\n') + 1));
    assertEquals(Set.copyOf(TaskCodec.FIELDS), announced.fieldNames(), "the script announces the codec's fields");
    assertEquals(await(store.task(TaskCodec.doneTaskId(message))), TaskCodec.fromDoneMessage(message));
  }

  @Test
  void theDoneAnnouncementOfATaskThatPrintedCarriesItsOutput() throws Exception {
    TaskOutput output = new TaskOutput("hello\n", "", false);
    String message = doneMessageOfATaskEndedBy((queue, entry) -> queue.finish(List.of(new FinishedTask(entry,
        TaskOutcome.success(payloads.getString("result")).withOutput(output), "w1"))));
    JsonObject announced = new JsonObject(message.substring(message.indexOf('\n') + 1));
    Set<String> fields = new HashSet<>(TaskCodec.FIELDS);
    fields.addAll(TaskCodec.OUTPUT_FIELDS);
    assertEquals(fields, announced.fieldNames());
    TaskRecord stored = await(store.task(TaskCodec.doneTaskId(message)));
    assertEquals(output, stored.output());
    assertEquals(stored, TaskCodec.fromDoneMessage(message));
  }

  /** Submits a task, starts it, ends it by {@code finish} and answers the done channel's message about it. */
  private String doneMessageOfATaskEndedBy(BiFunction<TaskQueue, QueueEntry, Future<?>> finish) throws Exception {
    String fid = register("double", payloads.getString("fn"));
    String id = submit(fid, payloads.getString("args"), null);
    TaskQueue queue = queue("store-test");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    await(TaskSteps.start(queue, entry, "w1", 3, "x", "y"));

    LinkedBlockingQueue<Response> messages = new LinkedBlockingQueue<>();
    RedisConnection subscriber = await(redis.connect());
    try {
      subscriber.handler(messages::add);
      await(subscriber.send(Request.cmd(Command.SUBSCRIBE).arg(keys.doneChannel())));
      await(finish.apply(queue, entry));
      String message = waitForMessage(messages).get(2).toString();
      assertEquals(id, TaskCodec.doneTaskId(message));
      return message;
    } finally {
      subscriber.close();
    }
  }

  @Test
  void taskReportsEachStateItGoesThrough() {
    String fid = register("double", payloads.getString("fn"));
    String ok = submit(fid, payloads.getString("args"), null);
    String bad = submit(fid, payloads.getString("args"), null);

    TaskRecord queued = await(store.task(ok));
    assertEquals(ok, queued.id());
    assertEquals(TaskStatus.QUEUED, queued.status());
    assertNull(queued.result());
    assertNull(queued.error());
    assertEquals(0, queued.attempts());
    assertNotNull(queued.createdAt());
    assertNull(queued.startedAt());
    assertNull(queued.finishedAt());
    assertEquals(TaskStatus.QUEUED, await(store.status(ok, Tenant.NONE)));

    TaskQueue queue = queue("store-test");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(10, 100, false));
    assertEquals(List.of(ok, bad), entries.stream().map(QueueEntry::taskId).toList());

    await(TaskSteps.start(queue, entries.get(0), "w1", 3, "x", "y"));
    TaskRecord running = await(store.task(ok));
    assertEquals(TaskStatus.RUNNING, running.status());
    assertEquals(TaskStatus.RUNNING, await(store.status(ok, Tenant.NONE)));
    assertNull(running.result());
    assertEquals(1, running.attempts());
    assertEquals("w1", running.worker());
    assertNotNull(running.startedAt());
    assertNull(running.finishedAt());

    assertTrue(await(TaskSteps.finish(queue, entries.get(0), TaskStatus.COMPLETED, payloads.getString("result"), null,
        "w1/local")));
    TaskRecord completed = await(store.task(ok));
    assertEquals(TaskStatus.COMPLETED, completed.status());
    assertEquals(TaskStatus.COMPLETED, await(store.status(ok, Tenant.NONE)));
    assertEquals(payloads.getString("result"), completed.result());
    assertTrue(completed.error() == null || completed.error().isEmpty(), "no error text: " + completed.error());
    assertEquals("w1/local", completed.worker());
    assertNotNull(completed.finishedAt());
    assertTrue(Double.parseDouble(completed.finishedAt()) >= Double.parseDouble(completed.startedAt()));
    assertTrue(Double.parseDouble(completed.startedAt()) >= Double.parseDouble(completed.createdAt()));

    await(TaskSteps.start(queue, entries.get(1), "w1", 3, "x", "y"));
    assertTrue(await(TaskSteps.finish(queue, entries.get(1), TaskStatus.FAILED, payloads.getString("error"),
        "Traceback ...\nValueError: bad", "w1/local")));
    TaskRecord failed = await(store.task(bad));
    assertEquals(TaskStatus.FAILED, failed.status());
    assertEquals(payloads.getString("error"), failed.result());
    assertEquals("Traceback ...\nValueError: bad", failed.error());
    assertEquals("ValueError", Py.describe(failed.result()).getString("type"));
  }

  @Test
  void anEndedTaskIsReadWithItsShortResultInOneRoundTripAlsoWhenRedisForgotItsScripts() {
    String fid = register("double", payloads.getString("fn"));
    String ok = submit(fid, payloads.getString("args"), null);
    String queued = submit(fid, payloads.getString("args"), null);
    TaskQueue queue = queue("store-test");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    await(TaskSteps.start(queue, entry, "w1", 3, "x", "y"));
    await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w1/local"));
    RoundTrips counted = new RoundTrips(redis);
    TaskStore reader = new TaskStore(counted, keys);

    cmd(redis, Command.SCRIPT, "FLUSH"); // as after a restart of Redis without its scripts
    assertEquals(payloads.getString("result"), await(reader.task(ok)).result());
    assertEquals(3, counted.trips, "refused, the script loaded, sent again");

    List<TaskRecord> read = await(reader.tasks(List.of(ok, queued), Tenant.NONE));
    assertEquals(3 + 1, counted.trips, "the tasks and the short result in one round trip");
    assertEquals(payloads.getString("result"), read.get(0).result());
    assertEquals(TaskStatus.QUEUED, read.get(1).status());
    assertNull(read.get(1).result());
  }

  @Test
  void aReadOfHundredsOfTasksGivesEachItsOwnShortResultInOrder() {
    String fid = register("double", payloads.getString("fn"));
    TaskQueue queue = queue("store-test");
    await(queue.ensureGroup());
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      ids.add(submit(fid, payloads.getString("args"), null));
    }
    List<QueueEntry> entries = await(queue.claim(250, 100, false));
    assertEquals(250, entries.size());
    for (QueueEntry entry : entries) {
      await(TaskSteps.start(queue, entry, "w1", 3, "x", "y"));
      await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, "result of " + entry.taskId(), null, "w1"));
    }
    String unknown = UUID.randomUUID().toString();
    List<String> asked = new ArrayList<>(ids);
    asked.add(100, unknown); // one not found, the first of the second script call's tasks
    List<TaskRecord> read = await(store.tasks(asked, Tenant.NONE));
    assertEquals(asked.size(), read.size());
    for (int i = 0; i < asked.size(); i++) {
      if (i == 100) {
        assertNull(read.get(i));
      } else {
        assertEquals("result of " + asked.get(i), read.get(i).result(), "task " + i);
      }
    }
  }

  /** Counts the calls that go to a real Redis: each is one round trip. */
  private static final class RoundTrips implements Redis {
    private final Redis redis;
    private int trips;

    RoundTrips(Redis redis) {
      this.redis = redis;
    }

    @Override
    public Future<RedisConnection> connect() {
      return redis.connect();
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }

    @Override
    public Future<Response> send(Request request) {
      trips++;
      return redis.send(request);
    }

    @Override
    public Future<List<Response>> batch(List<Request> requests) {
      trips++;
      return redis.batch(requests);
    }
  }

  @Test
  void unknownTaskIsNotFound() {
    assertInstanceOf(NotFoundException.class, awaitFailure(store.task(UUID.randomUUID().toString())));
    assertInstanceOf(NotFoundException.class, awaitFailure(store.status(UUID.randomUUID().toString(), Tenant.NONE)));
  }

  private static Response waitForMessage(LinkedBlockingQueue<Response> messages) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      Response r = messages.poll(100, TimeUnit.MILLISECONDS);
      // Skip the subscribe confirmation (a push too under RESP3).
      if (r != null && (r.type() == ResponseType.PUSH || r.type() == ResponseType.MULTI) && r.size() == 3
          && "message".equals(r.get(0).toString())) {
        return r;
      }
    }
    throw new AssertionError("no message on channel " + Keys.TASKS_CHANNEL + " within 5 s");
  }
}
