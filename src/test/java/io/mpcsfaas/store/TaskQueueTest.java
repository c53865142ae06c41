package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import io.vertx.core.internal.FutureInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The dispatcher's half of the Redis model: the consumer group and the Lua state transitions. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskQueueTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  String fid;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.doubling();
  }

  @BeforeEach
  void registerAFunction() {
    fid = register("double", payloads.getString("fn"));
  }

  private String newTask(Integer timeout) {
    return submit(fid, payloads.getString("args"), timeout);
  }

  @Test
  void ensureGroupIsIdempotent() {
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    await(queue.ensureGroup());
    await(queue("d2").ensureGroup());
    Response groups = cmd(redis, Command.XINFO, "GROUPS", keys.queue());
    assertEquals(1, groups.size(), "exactly one consumer group");
    Response group = groups.get(0);
    String name = group.isMap() ? group.get("name").toString() : group.get(1).toString();
    assertEquals(Keys.DISPATCHERS_GROUP, name);
  }

  @Test
  void claimReturnsEntriesQueuedBeforeTheGroupExisted() {
    String first = newTask(null);
    String second = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(10, 100, false));
    assertEquals(List.of(first, second), entries.stream().map(QueueEntry::taskId).toList());
    entries.forEach(e -> assertTrue(e.entryId().matches("\\d+-\\d+"), e.entryId()));
    assertEquals(2, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));

    // Nothing new: a claim returns nothing after its time, or blocks until a task arrives and returns it.
    assertEquals(List.of(), await(queue.claim(10, 100, false)));
    Future<List<QueueEntry>> waiting = queue.claim(10, 20_000, false);
    TestRedis.holdsFor(Duration.ofMillis(300), "the claim blocks while nothing is queued", () -> !waiting.isComplete());
    String third = newTask(null);
    assertEquals(List.of(third), await(waiting).stream().map(QueueEntry::taskId).toList());
  }

  @Test
  void claimHonoursCount() {
    newTask(null);
    newTask(null);
    newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    assertEquals(2, await(queue.claim(2, 100, false)).size());
    assertEquals(1, await(queue.claim(2, 100, false)).size());
  }

  @Test
  void startMovesQueuedToRunningAndReturnsWhatAWorkerNeeds() {
    String taskId = newTask(9);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);

    StartedTask started = await(TaskSteps.start(queue, entry, "worker-a", 3, payloads.getString("exhausted"),
        "gave up"));
    assertNotNull(started);
    assertEquals(taskId, started.spec().taskId());
    assertEquals(entry.entryId(), started.entry().entryId());
    assertEquals(fid, started.spec().functionId());
    assertEquals(payloads.getString("fn"), started.spec().functionPayload());
    assertEquals(payloads.getString("args"), started.spec().argsPayload());
    assertEquals(1, started.attempts());
    assertEquals(9, started.spec().timeoutSeconds());

    Map<String, String> hash = hash(taskId);
    assertEquals("RUNNING", hash.get("status"));
    assertEquals("1", hash.get("attempts"));
    assertEquals("worker-a", hash.get("worker"));
    assertTrue(hash.containsKey("started_at"));
  }

  @Test
  void aFunctionsPayloadIsReadFromRedisOnceByEachQueue() {
    newTask(null);
    newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(2, 100, false));
    StartedTask first = await(TaskSteps.start(queue, entries.get(0), "worker-a", 3, "", ""));
    assertEquals(payloads.getString("fn"), first.spec().functionPayload());
    // Never so in production (a function never changes under its id): shows whether Redis was read again.
    cmd(redis, Command.HSET, keys.function(fid), "payload", "changed");
    StartedTask second = await(TaskSteps.start(queue, entries.get(1), "worker-a", 3, "", ""));
    assertEquals(payloads.getString("fn"), second.spec().functionPayload(), "the payload held, not read again");

    newTask(null);
    TaskQueue other = queue("d2");
    QueueEntry third = await(other.claim(1, 100, false)).get(0);
    assertEquals("changed", await(TaskSteps.start(other, third, "worker-b", 3, "", "")).spec().functionPayload(),
        "another dispatcher reads it itself");
  }

  @Test
  void aTaskWhoseFunctionIsGoneStartsWithAnEmptyPayload() {
    newTask(null);
    cmd(redis, Command.DEL, keys.function(fid));
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    assertEquals("", await(TaskSteps.start(queue, entry, "worker-a", 3, "", "")).spec().functionPayload());
  }

  @Test
  void startWithoutTimeoutGivesNull() {
    newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    assertNull(await(TaskSteps.start(queue, entry, "w", 3, "x", "y")).spec().timeoutSeconds());
  }

  @Test
  void creationAndFinishAnswerOnAContextSoThatTheirTimeoutsRunOnAnEventLoop() {
    // The API times every creation call and the dispatcher every finish call. A future without a context (one
    // composed on Future.succeededFuture()) sets that timeout on Netty's global thread, which each call then
    // wakes twice: 5 % of the platform's CPU for no-op tasks (docs/performance.md).
    Future<String> created = TaskSteps.createTask(store, fid, payloads.getString("args"), null);
    assertNotNull(((FutureInternal<?>) created).context(), "the creation's answer");
    String taskId = await(created);
    TaskQueue queue = queue("d1");
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    Future<Boolean> finished = TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"),
        null, "w");
    assertNotNull(((FutureInternal<?>) finished).context(), "the finish's answer");
    assertTrue(await(finished));
  }

  @Test
  void finishStoresTheFirstOutcomeOnlyAndRemovesTheEntry() {
    String taskId = newTask(null);
    String other = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(10, 100, false));
    QueueEntry entry = entries.get(0);
    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    assertEquals(2, TestRedis.xlen(redis, keys.queue()));

    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null,
        "worker-1")));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, payloads.getString("error"), "late",
        "worker-2")), "a second outcome is refused");

    Map<String, String> hash = hash(taskId);
    assertEquals("COMPLETED", hash.get("status"));
    assertEquals(payloads.getString("result"), hash.get("result"));
    assertEquals("", hash.get("error"));
    assertEquals("worker-1", hash.get("worker"), "the worker that produced the stored outcome");
    assertTrue(hash.containsKey("finished_at"));
    assertEquals(42, Integer.parseInt(Py.describe(hash.get("result")).getString("repr")));

    assertEquals(1, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP), "only the other entry");
    assertEquals(1, TestRedis.xlen(redis, keys.queue()), "the finished entry is deleted");
    assertEquals(other, entries.get(1).taskId());
  }

  @Test
  void liveOutputIsStoredOnlyWhileTheTaskRunsAndTheFinalOutputWins() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    assertFalse(await(queue.storeOutput(taskId, new TaskOutput("early\n", "", false))), "not while QUEUED");
    assertFalse(hash(taskId).containsKey("stdout"));

    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    TaskOutput soFar = new TaskOutput("so far\n", "careful\n", false);
    assertTrue(await(queue.storeOutput(taskId, soFar)));
    assertEquals(new OutputRecord(taskId, TaskStatus.RUNNING, soFar), await(store.output(taskId, Tenant.NONE)));
    assertEquals(soFar, await(store.task(taskId)).output());

    TaskOutput last = new TaskOutput("so far\ndone\n", "careful\n", true);
    assertTrue(await(queue.finish(List.of(new FinishedTask(entry,
        new TaskOutcome(true, payloads.getString("result"), null, last), "w")))).get(0));
    assertFalse(await(queue.storeOutput(taskId, soFar)), "a late live report is refused");

    Map<String, String> hash = hash(taskId);
    assertEquals("so far\ndone\n", hash.get("stdout"));
    assertEquals("careful\n", hash.get("stderr"));
    assertEquals("1", hash.get("output_truncated"));
    assertEquals(new OutputRecord(taskId, TaskStatus.COMPLETED, last), await(store.output(taskId, Tenant.NONE)));
    assertEquals(last, await(store.task(taskId)).output());
  }

  @Test
  void aTaskThatPrintedNothingHasNoOutputFieldsAndOneEndedWithoutOutputKeepsItsLiveOutput() {
    String silent = newTask(null);
    String crashed = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(2, 100, false));
    await(queue.start(entries, "w", 3, "x", "y"));
    TaskOutput live = new TaskOutput("before the crash\n", "", false);
    await(queue.storeOutput(crashed, live));
    await(queue.finish(List.of(
        new FinishedTask(entries.get(0), TaskOutcome.success(payloads.getString("result")), "w"),
        new FinishedTask(entries.get(1), TaskOutcome.platformFailure("RuntimeError", "crashed"), "w"))));

    assertTrue(hash(silent).keySet().stream().noneMatch(List.of("stdout", "stderr", "output_truncated")::contains),
        hash(silent).keySet().toString());
    assertEquals(TaskOutput.NONE, await(store.task(silent)).output());
    assertEquals(new OutputRecord(silent, TaskStatus.COMPLETED, TaskOutput.NONE),
        await(store.output(silent, Tenant.NONE)));
    assertEquals(live, await(store.task(crashed)).output());
  }

  @Test
  void finishAcksAndDeletesTheEntry() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    assertEquals(1, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, payloads.getString("error"), "tb", "w")));
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
    assertEquals("FAILED", hash(taskId).get("status"));
    assertEquals("tb", hash(taskId).get("error"));
  }

  @Test
  void aTaskFoundRunningCountsAnotherAttemptUntilMaxAttempts() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    String exhausted = payloads.getString("exhausted");

    assertEquals(1, await(TaskSteps.start(queue, entry, "w", 2, exhausted, "RuntimeError: gave up")).attempts());
    // Its worker was lost: started again, it counts a second attempt.
    StartedTask again = await(TaskSteps.start(queue, entry, "w", 2, exhausted, "RuntimeError: gave up"));
    assertNotNull(again);
    assertEquals(2, again.attempts());
    assertEquals("2", hash(taskId).get("attempts"));

    // Lost again with attempts == max_attempts: it will not run, it fails with the given outcome.
    assertNull(await(TaskSteps.start(queue, entry, "w", 2, exhausted, "RuntimeError: gave up")));
    Map<String, String> hash = hash(taskId);
    assertEquals("FAILED", hash.get("status"));
    assertEquals(exhausted, hash.get("result"));
    assertEquals("RuntimeError: gave up", hash.get("error"));
    assertEquals("2", hash.get("attempts"));
    assertFalse(hash.containsKey("payload"), "ended: its arguments go");
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
    assertEquals("RuntimeError", Py.describe(hash.get("result")).getString("type"));
  }

  @Test
  void startOfAnEndedTaskReturnsNullAndDropsTheEntry() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    // Outcome stored by someone else, entry still pending (e.g. redelivered).
    cmd(redis, Command.HSET, keys.task(taskId), "status", "COMPLETED", "result", payloads.getString("result"));
    assertNull(await(TaskSteps.start(queue, entry, "w", 3, "x", "y")));
    assertEquals("COMPLETED", hash(taskId).get("status"));
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  @Test
  void startOfAMissingTaskReturnsNull() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    cmd(redis, Command.DEL, keys.task(taskId));
    assertNull(await(TaskSteps.start(queue, entry, "w", 3, "x", "y")));
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  @Test
  void aRestartedConsumerGetsBackWhatItHeld() {
    String done = newTask(null);
    String held = newTask(null);
    String heldToo = newTask(null);
    TaskQueue before = queue("dispatcher-x");
    await(before.ensureGroup());
    List<QueueEntry> claimed = await(before.claim(10, 100, false));
    assertEquals(3, claimed.size());
    await(TaskSteps.start(before, claimed.get(0), "w", 3, "x", "y"));
    await(TaskSteps.finish(before, claimed.get(0), TaskStatus.COMPLETED, payloads.getString("result"), null,
        "w"));
    await(TaskSteps.start(before, claimed.get(1), "w", 3, "x", "y"));

    // "Restart": a new queue object with the same consumer name.
    TaskQueue after = queue("dispatcher-x");
    await(after.ensureGroup());
    List<QueueEntry> recovered = await(after.claim(100, 0, true));
    assertEquals(List.of(held, heldToo), recovered.stream().map(QueueEntry::taskId).toList());
    assertEquals(claimed.get(1).entryId(), recovered.get(0).entryId());

    // Another consumer does not get them, neither as pending nor as new.
    TaskQueue stranger = queue("someone-else");
    assertEquals(List.of(), await(stranger.claim(100, 0, true)));
    assertEquals(List.of(), await(stranger.claim(100, 100, false)));

    // A pending claim does not re-deliver new entries either.
    String fresh = newTask(null);
    assertEquals(2, await(after.claim(100, 0, true)).size());
    assertEquals(List.of(fresh), await(after.claim(100, 100, false)).stream().map(QueueEntry::taskId).toList());
  }

  @Test
  void scriptsAreReloadedAfterAScriptFlush() {
    String taskId = newTask(null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    cmd(redis, Command.SCRIPT, "FLUSH");
    assertNotNull(await(TaskSteps.start(queue, entry, "w", 3, "x", "y")));
    cmd(redis, Command.SCRIPT, "FLUSH");
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null,
        "w")));
    cmd(redis, Command.SCRIPT, "FLUSH");
    assertNotNull(submit(fid, payloads.getString("args"), null));
  }

  @Test
  void startsAndFinishesManyTasksInOneCallEachOnItsOwnTerms() {
    String a = newTask(null);
    String b = newTask(7);
    String ended = newTask(null);
    cmd(redis, Command.HSET, keys.task(ended), "status", "COMPLETED", "result", payloads.getString("result"));
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(10, 100, false));
    List<StartedTask> started = await(queue.start(entries, "w", 3, "x", "y"));
    assertEquals(3, started.size());
    assertEquals(a, started.get(0).spec().taskId());
    assertEquals(Integer.valueOf(7), started.get(1).spec().timeoutSeconds());
    assertNull(started.get(2), "an ended task does not run again");

    List<Boolean> stored = await(queue.finish(List.of(
        new FinishedTask(entries.get(0), TaskOutcome.success(payloads.getString("result")), "w"),
        new FinishedTask(entries.get(1), new TaskOutcome(false, payloads.getString("error"), "tb"), "w"),
        new FinishedTask(entries.get(0), new TaskOutcome(false, payloads.getString("error"), "late"), "w"))));
    assertEquals(List.of(true, true, false), stored, "the duplicate in the same batch is refused");
    assertEquals("COMPLETED", hash(a).get("status"));
    assertEquals("FAILED", hash(b).get("status"));
    assertEquals(0, TestRedis.xlen(redis, keys.queue()));
  }

  @Test
  void finishCountsCallsFailuresAndRunTimesPerFunction() {
    String other = register("other", payloads.getString("fn"));
    newTask(null);
    newTask(null);
    submit(other, payloads.getString("args"), null);
    TaskQueue queue = queue("d1");
    await(queue.ensureGroup());
    List<QueueEntry> entries = await(queue.claim(10, 100, false));
    await(queue.start(entries, "w", 3, "x", "y"));
    await(queue.finish(List.of(
        new FinishedTask(entries.get(0), TaskOutcome.success(payloads.getString("result")), "w"),
        new FinishedTask(entries.get(1), new TaskOutcome(false, payloads.getString("error"), "tb"), "w"),
        new FinishedTask(entries.get(2), TaskOutcome.success(payloads.getString("result")), "w"),
        new FinishedTask(entries.get(0), new TaskOutcome(false, payloads.getString("error"), "late"), "w"))));

    Map<String, FunctionStats> stats = new HashMap<>();
    await(FunctionStats.newest(redis, keys, Tenant.NONE, 10)).forEach(f -> stats.put(f.functionId(), f));
    assertEquals(Set.of(other, fid), stats.keySet());
    FunctionStats doubled = stats.get(fid);
    assertEquals("double", doubled.name());
    assertEquals(2, doubled.calls(), "a duplicate outcome is not a call");
    assertEquals(1, doubled.failures());
    assertEquals(2, doubled.run().count(), "both runs in the run-time histogram");
    assertTrue(doubled.run().mean() >= 0);
    assertEquals(1, stats.get(other).calls());
    assertEquals(0, stats.get(other).failures());

    String cancelled = newTask(null);
    await(store.cancel(List.of(cancelled), TaskOutcome.CANCELLED.result(), TaskOutcome.CANCELLED.error(), Tenant.NONE));
    FunctionStats afterCancel = await(FunctionStats.newest(redis, keys, Tenant.NONE, 10)).stream()
        .filter(f -> f.functionId().equals(fid)).findFirst().orElseThrow();
    assertEquals(3, afterCancel.calls(), "a cancelled task is a call");
    assertEquals(2, afterCancel.failures(), "that failed, as the failed counter says");
    assertEquals(2, afterCancel.run().count(), "it never ran");

    await(store.deleteFunction(fid, 3600, Tenant.NONE));
    long ttl = cmd(redis, Command.TTL, keys.functionStats(fid)).toLong();
    assertTrue(ttl > 3500 && ttl <= 3600, "the figures leave with a deleted function: TTL " + ttl);
  }

  @Test
  void aFinishedTaskExpiresAfterTheResultTtlAndAQueuedOneNever() {
    String done = newTask(null);
    String waiting = newTask(null);
    TaskQueue queue = new TaskQueue(redis, keys, "d1", 3600);
    await(queue.ensureGroup());
    QueueEntry entry = await(queue.claim(1, 100, false)).get(0);
    await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(done)).toLong(), "no expiry while it runs");
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, payloads.getString("result"), null,
        "w")));
    long ttl = cmd(redis, Command.TTL, keys.task(done)).toLong();
    assertTrue(ttl > 3500 && ttl <= 3600, "ttl " + ttl);
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(waiting)).toLong());

    String kept = newTask(null);
    TaskQueue forever = queue("d2");
    QueueEntry keptEntry = await(forever.claim(10, 100, false)).stream()
        .filter(e -> e.taskId().equals(kept)).findFirst().orElseThrow();
    await(TaskSteps.start(forever, keptEntry, "w", 3, "x", "y"));
    await(TaskSteps.finish(forever, keptEntry, TaskStatus.COMPLETED, payloads.getString("result"), null, "w"));
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(kept)).toLong(), "0 keeps a finished task forever");
  }
}
