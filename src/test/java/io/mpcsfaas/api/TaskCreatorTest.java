package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.NotFoundException;
import io.mpcsfaas.store.TaskStore.NewTask;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Group commit of single submits, against a real redis-server. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TaskCreatorTest {
  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;
  static Redis redis;
  static TaskStore store;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n", "out['fn'] = enc(lambda x: x * 2)", "out['args'] = enc(((21,), {}))"));
    redis = shared.client();
    store = new TaskStore(redis, new Keys("faas:"));
  }

  @Test
  void submitsThatArriveWhileACreationIsOnItsWayGoOutTogetherAndEachGetsItsOwnAnswer() {
    String function = await(store.registerFunction("double", payloads.getString("fn")));
    String unknown = UUID.randomUUID().toString();
    Context context = shared.vertx().getOrCreateContext();
    TaskCreator creator = new TaskCreator(store, 10_000);
    await(callOn(context, () -> creator.create(task(function)))); // the script is loaded from here on
    List<NewTask> tasks = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      tasks.add(task(i % 10 == 3 ? unknown : function));
    }
    long callsBefore = TestRedis.calls(redis, "evalsha", "eval");

    // All 40 submits in one turn of the event loop: the first goes out at once, the other 39 gather behind it.
    List<Future<Void>> answers = await(callOn(context,
        () -> Future.succeededFuture(tasks.stream().map(creator::create).toList())));
    await(Future.join(answers).otherwiseEmpty());

    assertEquals(2, TestRedis.calls(redis, "evalsha", "eval") - callsBefore,
        "one creation call, then one for all that gathered");
    for (int i = 0; i < tasks.size(); i++) {
      if (tasks.get(i).functionId().equals(unknown)) {
        assertInstanceOf(NotFoundException.class, answers.get(i).cause(), "task " + i);
        assertTrue(TestRedis.hash(redis, "faas:task:" + tasks.get(i).id()).isEmpty());
      } else {
        assertTrue(answers.get(i).succeeded(), "task " + i + ": " + answers.get(i).cause());
        assertEquals(TaskStatus.QUEUED, await(store.task(tasks.get(i).id())).status());
      }
    }
  }

  @Test
  void whenRedisDoesNotAnswerTheSubmitsFailAndLaterOnesAreCreated() {
    String function = await(store.registerFunction("double", payloads.getString("fn")));
    Context context = shared.vertx().getOrCreateContext();
    TaskCreator creator = new TaskCreator(store, 300);
    TestRedis.cmd(redis, Command.CLIENT, "PAUSE", 1500, "ALL"); // the creation call gets no answer
    NewTask sent = task(function);
    NewTask gathered = task(function);
    List<Future<Void>> stalled = await(callOn(context,
        () -> Future.succeededFuture(List.of(creator.create(sent), creator.create(gathered)))));
    await(Future.join(stalled).otherwiseEmpty());
    stalled.forEach(f -> assertTrue(f.failed(), "a submit without an answer fails (503), it does not hang"));
    TestRedis.cmd(redis, Command.PING); // answered when the pause is over
    assertEquals(TaskStatus.QUEUED, await(store.task(sent.id())).status(), "the call ran late: a 503 may be created");
    assertTrue(TestRedis.hash(redis, "faas:task:" + gathered.id()).isEmpty(),
        "a submit gathered behind a call that timed out failed with it and was never sent");
    NewTask later = task(function);
    await(callOn(context, () -> creator.create(later)));
    assertEquals(TaskStatus.QUEUED, await(store.task(later.id())).status());
  }

  private NewTask task(String function) {
    return new NewTask(TaskStore.newTaskId(), function, payloads.getString("args"), null);
  }

  private static <T> Future<T> callOn(Context context, java.util.function.Supplier<Future<T>> action) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }
}
