package io.mpcsfaas.api;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.awaitFailure;
import static io.mpcsfaas.TestRedis.cmd;
import static io.mpcsfaas.api.JsonErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.TestSentinels;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.NotReplicatedException;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.RedisClients;
import io.mpcsfaas.store.ReplicaWait;
import io.mpcsfaas.store.Subscription;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Redis behind Sentinel, with a real master, two replicas and three {@code redis-sentinel}s: clients find the
 * master through the Sentinels and follow it after a failover, writes wait for replicas, a write too few
 * replicas confirm is a 503, and a result is announced only once confirmed. The failover runs last: it changes
 * the master for good.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@TestMethodOrder(OrderAnnotation.class)
class SentinelTest {
  private static Path dir;
  private static TestSentinels sentinels;
  private static Vertx vertx;
  private static JsonObject payloads;

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads("out['fn'] = enc(lambda x: x * 2)\nout['args'] = enc(((21,), {}))\n"
        + "out['result'] = enc(42)");
    dir = Files.createTempDirectory("mpcsfaas-test-sentinel-");
    sentinels = TestSentinels.start(dir);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void tearDown() throws IOException {
    if (vertx != null) {
      await(vertx.close());
    }
    if (sentinels != null) {
      sentinels.close();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
    }
  }

  /** The config of a server behind the Sentinels, with {@code minReplicas} to wait for. */
  private static JsonObject config(int minReplicas) {
    return new JsonObject().put("redis.sentinels", sentinels.sentinels()).put("redis.master", TestSentinels.MASTER)
        .put("redis.min_replicas", minReplicas).put("redis.wait_ms", 300)
        .put("redis.prefix", "sentinel-" + TestRedis.randomTag() + ":");
  }

  private static TaskStore store(Redis redis, JsonObject config) {
    RedisConfig redisConf = RedisConfig.from(config);
    return new TaskStore(redis, new Keys(redisConf.prefix()), 0, ReplicaWait.of(redisConf));
  }

  @Test
  @Order(1)
  void theClientFindsTheMasterThroughTheSentinels() {
    Redis redis = RedisClients.create(vertx, RedisConfig.from(config(0)));
    try {
      String info = cmd(redis, Command.INFO, "server").toString();
      assertTrue(info.contains("tcp_port:" + sentinels.masterPort()), info);
      assertEquals("master", cmd(redis, Command.ROLE).get(0).toString());
    } finally {
      redis.close();
    }
  }

  @Test
  @Order(2)
  void aWriteIsAnsweredOnceTheReplicasHoldIt() {
    JsonObject config = config(2);
    Redis redis = RedisClients.create(vertx, RedisConfig.from(config));
    try {
      String id = await(store(redis, config).registerFunction("double", payloads.getString("fn")));
      String key = config.getString("redis.prefix") + "function:" + id;
      for (int replica = 1; replica <= 2; replica++) {
        assertEquals(List.of("double"), TestSentinels.cli(sentinels.server(replica).port(), "HGET", key, "name"),
            "replica " + replica);
      }
    } finally {
      redis.close();
    }
  }

  @Test
  @Order(3)
  void tooFewReplicasFailTheWriteAndTheApiAnswers503() {
    JsonObject config = config(3); // there are two
    Redis redis = RedisClients.create(vertx, RedisConfig.from(config));
    String functionId = await(store(redis, config(0).put("redis.prefix", config.getString("redis.prefix")))
        .registerFunction("double", payloads.getString("fn")));
    assertInstanceOf(NotReplicatedException.class,
        awaitFailure(store(redis, config).registerFunction("triple", payloads.getString("fn"))));

    ApiVerticle api = new ApiVerticle();
    String deployment = await(vertx.deployVerticle(api, new DeploymentOptions().setConfig(
        config.copy().put("api.port", 0).put("api.host", "127.0.0.1"))));
    WebClient http = WebClient.create(vertx);
    try {
      JsonObject register = new JsonObject().put("name", "triple").put("payload", payloads.getString("fn"));
      JsonObject submit = new JsonObject().put("function_id", functionId).put("payload", payloads.getString("args"));
      JsonObject batch = new JsonObject().put("function_id", functionId)
          .put("payloads", new JsonArray().add(payloads.getString("args")));
      for (String[] route : List.of(new String[] {"/register_function", register.encode()},
          new String[] {"/execute_function", submit.encode()},
          new String[] {"/execute_function/batch", batch.encode()})) {
        HttpResponse<Buffer> response = await(http.post(api.port(), "127.0.0.1", route[0])
            .putHeader("content-type", "application/json").sendBuffer(Buffer.buffer(route[1])));
        assertError(route[0], 503, response);
        assertTrue(response.bodyAsJsonObject().getString("error").contains("replicas"), response.bodyAsString());
        assertEquals("1", response.getHeader("Retry-After"), route[0]);
      }
    } finally {
      http.close();
      await(vertx.undeploy(deployment));
      redis.close();
    }
  }

  @Test
  @Order(4)
  void aResultIsAnnouncedOnlyOnceTheReplicasHoldIt() {
    JsonObject config = config(2);
    RedisConfig redisConf = RedisConfig.from(config);
    Keys keys = new Keys(redisConf.prefix());
    Redis redis = RedisClients.create(vertx, redisConf);
    TaskStore store = store(redis, config);
    String taskId = await(TaskSteps.createTask(store,
        await(store.registerFunction("double", payloads.getString("fn"))), payloads.getString("args"), null));
    TaskQueue confirmed = new TaskQueue(redis, keys, "d1", 0, ReplicaWait.of(redisConf));
    TaskQueue unconfirmed = new TaskQueue(redis, keys, "d1", 0,
        ReplicaWait.of(RedisConfig.from(config(3).put("redis.prefix", redisConf.prefix()))));
    List<String> heard = new CopyOnWriteArrayList<>();
    Promise<Void> subscribed = Promise.promise();
    Subscription done = new Subscription(vertx, redis, keys.doneChannel(), heard::add, subscribed::tryComplete);
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> done.start());
    try {
      await(subscribed.future());
      QueueEntry entry = TaskSteps.claim(confirmed, taskId).get(taskId);
      await(on(context, () -> TaskSteps.start(confirmed, entry, "w", 3, "x", "y")));
      String result = payloads.getString("result");
      assertInstanceOf(NotReplicatedException.class, awaitFailure(on(context,
          () -> TaskSteps.finish(unconfirmed, entry, TaskStatus.COMPLETED, result, null, "w"))));
      // The dispatcher finishes it again: stored already, so announced now, by its id alone.
      assertFalse(await(on(context,
          () -> TaskSteps.finish(confirmed, entry, TaskStatus.COMPLETED, result, null, "w"))));
      TestRedis.eventually(Duration.ofSeconds(10), "an announcement", () -> !heard.isEmpty());
      assertEquals(List.of(taskId), heard, "the unconfirmed finish announced nothing");
    } finally {
      await(on(context, () -> {
        done.close();
        return redis.close();
      }));
    }
  }

  @Test
  @Order(5)
  void afterAFailoverTheClientAndItsSubscriptionsFollowTheNewMaster() {
    JsonObject config = config(1);
    Redis redis = RedisClients.create(vertx, RedisConfig.from(config));
    TaskStore store = store(redis, config);
    List<String> heard = new CopyOnWriteArrayList<>();
    Promise<Void> subscribed = Promise.promise();
    Subscription subscription = new Subscription(vertx, redis, "sentinel-test", heard::add, subscribed::tryComplete);
    // One context for every call of the client, as in a verticle: the subscription reconnects on it.
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> subscription.start());
    try {
      await(subscribed.future());
      // Retried: on this loaded machine the connections were seen closed once or twice in ten runs right at
      // the start (cause not found); the platform reconnects, and so does the test.
      String before = registered(context, store, "before");
      int oldMaster = sentinels.masterPort();
      sentinels.master().kill();

      registered(context, store, "after"); // once a replica of a new master confirms it
      assertNotEquals(oldMaster, sentinels.masterPort());
      String key = config.getString("redis.prefix") + "function:" + before;
      assertEquals("before", await(on(context, () -> redis.send(Request.cmd(Command.HGET).arg(key).arg("name"))))
          .toString(), "a confirmed write survives");

      TestRedis.eventually(Duration.ofSeconds(30), "the subscription to hear the new master", () -> {
        await(on(context, () -> redis.send(Request.cmd(Command.PUBLISH).arg("sentinel-test").arg("hello"))));
        TestRedis.pause(100);
        return heard.contains("hello");
      });
    } finally {
      await(on(context, () -> {
        subscription.close();
        return redis.close();
      }));
    }
  }

  /** Registers a function, again and again until a write is confirmed (for at most 45 s); its id. */
  private static String registered(Context context, TaskStore store, String name) {
    String[] id = new String[1];
    TestRedis.eventually(Duration.ofSeconds(45), "a registration confirmed by a replica", () -> {
      try {
        id[0] = await(on(context, () -> store.registerFunction(name, payloads.getString("fn"))));
        return true;
      } catch (Throwable e) { // await throws a refused connection (checked) or a Redis error as they are
        TestRedis.pause(200);
        return false;
      }
    });
    return id[0];
  }

  /** The future of a call made on {@code context}. */
  private static <T> Future<T> on(Context context, Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(promise));
    return promise.future();
  }
}
