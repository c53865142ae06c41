package io.mpcsfaas.store;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.KeySpaceTest;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.config.Environments;
import io.mpcsfaas.task.TaskOutcome;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Tasks of a named environment live in a stream of their own, through every step that touches a queue entry:
 * creation, claim, retry, delayed promotion, cancel, finish; the default environment's stream never sees them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EnvironmentQueueTest extends KeySpaceTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.doubling();
  }

  private String registerIn(String env, Retries retries) {
    return await(store.registerFunction("double", payloads.getString("fn"), retries, Tenant.NONE, env));
  }

  private String submit(String fid) {
    return await(TaskSteps.createTask(store, fid, payloads.getString("args"), null));
  }

  private long length(String stream) {
    return cmd(redis, Command.XLEN, stream).toLong();
  }

  @Test
  void theEnvironmentIsPartOfWhatMakesAFunctionTheSame() {
    String special = registerIn("special", Retries.UNSET);
    assertEquals(special, registerIn("special", Retries.UNSET));
    assertNotEquals(special, registerIn(Environments.DEFAULT, Retries.UNSET));
    assertEquals(registerIn(Environments.DEFAULT, Retries.UNSET), register("double", payloads.getString("fn")));
    assertEquals("special", await(store.function(special, false, Tenant.NONE)).getString("env"));
  }

  @Test
  void aTaskOfAnEnvironmentIsQueuedClaimedAndFinishedInItsOwnStream() {
    String task = submit(registerIn("special", Retries.UNSET));
    String plain = submit(registerIn(Environments.DEFAULT, Retries.UNSET));
    assertEquals(1, length(keys.queue("special")));
    assertEquals(1, length(keys.queue()));
    assertEquals("special", hash(task).get("env"));
    assertNull(hash(plain).get("env"), "a default task's hash is as before");

    PlatformStats before = await(PlatformStats.read(redis, keys));
    assertEquals(Map.of(Environments.DEFAULT, 1L, "special", 1L), before.queuedByEnv());
    assertEquals(List.of("special"), before.environments(List.of(Environments.DEFAULT)).getJsonArray("waited_for")
        .getList());

    TaskQueue queue = queue("d1");
    List<String> both = List.of(Environments.DEFAULT, "special");
    await(queue.ensureGroups(both));
    assertEquals(List.of(plain), await(queue.claim(10, 100, false)).stream().map(QueueEntry::taskId).toList(),
        "a dispatcher that reads the default's queue alone never sees the other's task");
    List<QueueEntry> claimed = await(queue.claim(10, 100, false, both));
    assertEquals(List.of(new QueueEntry(claimed.get(0).entryId(), task, "special")), claimed);
    assertEquals("special", await(queue.start(claimed, "d1", 3, "", "")).get(0).spec().env());

    assertTrue(await(queue.finish(List.of(new FinishedTask(claimed.get(0),
        TaskOutcome.success(payloads.getString("result")), "w")))).get(0));
    assertEquals(0, length(keys.queue("special")), "its entry left its own stream");
    assertEquals("COMPLETED", hash(task).get("status"));
    PlatformStats after = await(PlatformStats.read(redis, keys));
    assertEquals(0L, after.queuedByEnv().get("special"));
  }

  @Test
  void aRetryAndADelayedRetryGoBackToTheirEnvironmentsStream() {
    String fid = registerIn("special", new Retries(2, 0.0));
    String task = submit(fid);
    List<String> special = List.of("special");
    TaskQueue queue = queue("d1");
    await(queue.ensureGroups(special));
    List<QueueEntry> first = await(queue.claim(10, 100, false, special));
    await(queue.start(first, "d1", 3, "", ""));
    await(queue.finish(List.of(new FinishedTask(first.get(0),
        TaskOutcome.platformFailure("RuntimeError", "crashed"), "w"))));
    assertEquals("QUEUED", hash(task).get("status"));
    assertEquals(1, length(keys.queue("special")), "the retry's new entry is in the environment's stream");
    assertEquals(0, length(keys.queue()));

    String delayed = submit(registerIn("special", new Retries(1, 5.0)));
    List<QueueEntry> again = await(queue.claim(10, 100, false, special));
    QueueEntry ofDelayed = again.stream().filter(e -> e.taskId().equals(delayed)).findFirst().orElseThrow();
    await(queue.start(List.of(ofDelayed), "d1", 3, "", ""));
    await(queue.finish(List.of(new FinishedTask(ofDelayed, TaskOutcome.platformFailure("RuntimeError", "x"), "w"))));
    double due = Double.parseDouble(cmd(redis, Command.ZSCORE, keys.delayed(), delayed).toString());
    assertEquals(1, await(queue.promoteDue(Double.toString(due + 1), 10)));
    assertEquals(hash(delayed).get("entry"), await(queue.claim(10, 100, false, special)).stream()
        .filter(e -> e.taskId().equals(delayed)).findFirst().orElseThrow().entryId(),
        "promoted into the environment's stream");
    assertEquals(0, length(keys.queue()));
  }

  @Test
  void aCancelRemovesTheEntryFromItsEnvironmentsStream() {
    String task = submit(registerIn("special", Retries.UNSET));
    assertEquals(1, length(keys.queue("special")));
    assertEquals(List.of(TaskStore.CancelAnswer.CANCELLED), await(store.cancel(List.of(task), "r", "e", Tenant.NONE)));
    assertEquals(0, length(keys.queue("special")));
  }
}
