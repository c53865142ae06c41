package io.mpcsfaas.bench;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.dispatch.DispatcherVerticle;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.TaskRecord;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The capacity plan's simulated peers (docs/scaling.md): twenty real workers in this JVM whose pools end tasks at
 * once, against a real dispatcher and Redis over ZeroMQ and over the clustered event bus, run every task of a
 * batch, each returning its argument exactly as dill would have encoded it.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PeersTest {
  private static final int PEERS = 20;
  private static final int TASKS = 500;

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  @BeforeAll
  static void setUp() {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x)",
        "xs = list(range(250)) + list(range(250, 100000, 400)) + list(range(70000, 2**31, 2**31 // 100))[:50]",
        "out['args'] = [enc(((x,), {})) for x in xs]",
        "plain = lambda obj: base64.b64encode(dill.dumps(obj)).decode()  # as a worker sends a result",
        "out['results'] = [plain(x) for x in xs]",
        "out['other'] = enc((('text',), {'k': 1}))",
        "out['none'] = plain(None)"));
  }

  @Test
  void echoesWhatDillWouldAndNoneForOtherArguments() {
    JsonArray args = payloads.getJsonArray("args");
    for (int i = 0; i < args.size(); i++) {
      assertEquals(payloads.getJsonArray("results").getString(i), InstantPool.echo(args.getString(i)));
    }
    assertEquals(payloads.getString("none"), InstantPool.echo(payloads.getString("other")));
    assertEquals(payloads.getString("none"), InstantPool.NONE);
  }

  @Test
  void twentyPushPeersRunABatch() {
    String name = "d" + TestRedis.randomTag();
    int port = TestRedis.freePort();
    JsonObject dispatcher = dispatcherConfig(name, "push").put("dispatcher.port", port);
    shared.deploy(new DispatcherVerticle(), dispatcher);
    await(Peers.deploy(shared.vertx(), new JsonObject().put("mode", "push").put("workers", 4)
        .put("dispatcher.url", "tcp://127.0.0.1:" + port), PEERS));
    runsABatch(dispatcher);
  }

  @Test
  void twentyClusterPeersRunABatch() {
    String name = "d" + TestRedis.randomTag();
    String join = "127.0.0.1:" + TestRedis.freePort();
    JsonObject dispatcher = dispatcherConfig(name, "cluster").put("cluster.port", Integer.parseInt(join.split(":")[1]))
        .put("cluster.join", join);
    Vertx dispatcherNode = Peers.vertx(dispatcher);
    Vertx peerNode = null;
    try {
      await(dispatcherNode.deployVerticle(new DispatcherVerticle(), new DeploymentOptions().setConfig(dispatcher)));
      JsonObject peer = new JsonObject().put("mode", "cluster").put("workers", 4).put("dispatcher.name", name)
          .put("cluster.join", join).put("cluster.port", TestRedis.freePort());
      peerNode = Peers.vertx(peer);
      await(Peers.deploy(peerNode, peer, PEERS));
      runsABatch(dispatcher);
    } finally {
      if (peerNode != null) {
        await(peerNode.close());
      }
      await(dispatcherNode.close());
    }
  }

  private static JsonObject dispatcherConfig(String name, String mode) {
    return new JsonObject().put("redis.url", shared.server().url()).put("redis.prefix", name + ":")
        .put("mode", mode).put("dispatcher.name", name);
  }

  /** Queues the batch in one call and waits until every task is COMPLETED with its argument as result. */
  private static void runsABatch(JsonObject dispatcher) {
    Redis redis = shared.client();
    try {
      TaskStore store = new TaskStore(redis, new Keys(dispatcher.getString("redis.prefix")));
      String fid = await(store.registerFunction("echo", payloads.getString("fn")));
      JsonArray args = payloads.getJsonArray("args");
      List<String> batch = new ArrayList<>();
      for (int i = 0; i < TASKS; i++) {
        batch.add(args.getString(i % args.size()));
      }
      List<String> ids = await(store.createTasks(fid, batch, null));
      Map<String, Integer> waiting = new HashMap<>();
      for (int i = 0; i < ids.size(); i++) {
        waiting.put(ids.get(i), i % args.size());
      }
      TestRedis.eventually(Duration.ofSeconds(60), "all " + TASKS + " tasks end", () -> {
        for (String id : List.copyOf(waiting.keySet())) {
          TaskRecord task = await(store.task(id));
          if (task.status().isTerminal()) {
            assertEquals(TaskStatus.COMPLETED, task.status(), task.toString());
            assertEquals(payloads.getJsonArray("results").getString(waiting.remove(id)), task.result());
          }
        }
        return waiting.isEmpty();
      });
    } finally {
      await(redis.close());
    }
  }
}
