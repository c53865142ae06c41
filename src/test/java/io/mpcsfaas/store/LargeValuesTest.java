package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Payloads and results over LargeValues.INLINE bytes, written beside the scripts, against a real Redis. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LargeValuesTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  String fid;
  TaskQueue queue;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.doubling();
  }

  @BeforeEach
  void registerAFunction() {
    fid = register("double", payloads.getString("fn"));
    queue = queue("d1");
  }

  private static String big(char c) {
    return String.valueOf(c).repeat(LargeValues.INLINE + 1000);
  }

  private StartedTask startOne(String taskId) {
    QueueEntry entry = TaskSteps.claim(queue, taskId).get(taskId);
    return await(TaskSteps.start(queue, entry, "w", 3, "x", "y"));
  }

  @Test
  void aBigPayloadIsQueuedWithTheTaskKeptForeverAndStartedWhole() {
    String payload = big('p');
    String taskId = submit(fid, payload, null);
    assertEquals(payload, hash(taskId).get("payload"));
    assertEquals("QUEUED", hash(taskId).get("status"));
    assertEquals(-1, cmd(redis, Command.TTL, keys.task(taskId)).toInteger(), "the orphan expiry is removed");
    StartedTask started = startOne(taskId);
    assertEquals(payload, started.spec().argsPayload());
    assertEquals(payloads.getString("fn"), started.spec().functionPayload());
  }

  @Test
  void aRefusedBigPayloadLeavesNothing() {
    String unknown = java.util.UUID.randomUUID().toString();
    assertTrue(TestRedis.awaitFailure(store.createTasks(unknown, List.of(big('p')), null))
        instanceof NotFoundException);
    TestRedis.eventually(java.time.Duration.ofSeconds(5), "the refused payload deleted",
        () -> TestRedis.countKeys(redis, keys.task("*")) == 0);
  }

  @Test
  void aBigResultIsStoredOnceAndALateDuplicateNeverOverwritesIt() {
    String taskId = submit(fid, payloads.getString("args"), null);
    StartedTask started = startOne(taskId);
    QueueEntry entry = started.entry();
    String first = big('r');
    assertTrue(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, first, null, "w1")));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.FAILED, big('l'), "late", "w2")),
        "a late duplicate is refused");
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, first, null, "w1")),
        "the same outcome finished again is refused too");
    Map<String, String> hash = hash(taskId);
    assertEquals("COMPLETED", hash.get("status"));
    assertEquals("w1", hash.get("worker"));
    assertEquals(first, hash.get("result"));
    assertEquals(first, await(store.task(taskId)).result());
    assertEquals(0, TestRedis.pendingCount(redis, keys.queue(), Keys.DISPATCHERS_GROUP));
  }

  @Test
  void aBigResultStagedByTheLoserOfARaceIsNotTheOneStored() {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(taskId).entry();
    // another outcome of the task staged its result and has not run its script yet
    cmd(redis, Command.HSET, keys.task(taskId), "result_owner", "other", "result", big('o'));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    assertEquals("RUNNING", hash(taskId).get("status"), "the owner of the staged result ends it, not this one");
    assertEquals(big('o'), hash(taskId).get("result"));
  }

  @Test
  void aBigResultOfATaskGoneMeanwhileLeavesNothing() {
    String taskId = submit(fid, payloads.getString("args"), null);
    QueueEntry entry = startOne(taskId).entry();
    cmd(redis, Command.DEL, keys.task(taskId));
    assertFalse(await(TaskSteps.finish(queue, entry, TaskStatus.COMPLETED, big('r'), null, "w1")));
    assertTrue(hash(taskId).isEmpty());
  }

  @Test
  void aBigFailureWithRetriesLeftQueuesTheTaskAgainWithoutIt() {
    String taskId = await(store.createTasks(fid, List.of(payloads.getString("args")), null, new Retries(1, null),
        Tenant.NONE)).get(0);
    QueueEntry entry = startOne(taskId).entry();
    TaskOutcome failure = new TaskOutcome(false, big('e'), "boom", io.mpcsfaas.task.TaskOutput.NONE);
    await(queue.finish(List.of(new FinishedTask(entry, failure, "w1"))));
    Map<String, String> hash = hash(taskId);
    assertEquals("QUEUED", hash.get("status"));
    assertNull(hash.get("result"));
    assertNull(hash.get("result_owner"));
  }
}
