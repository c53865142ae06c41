package io.mpcsfaas.dispatch;

import static io.mpcsfaas.TestRedis.await;
import static io.mpcsfaas.TestRedis.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.transport.CurveKeys;
import io.mpcsfaas.worker.RemoteWorkerVerticle;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;

/**
 * A push dispatcher with CURVE and a worker token, and real JeroMQ peers over TCP: a worker with the right keys
 * runs the queued task, while peers that know the token but not the keys (a wrong dispatcher key, a key the
 * dispatcher does not accept, no CURVE at all) see every connection refused and receive nothing, before and
 * after. Each peer's socket tells (by its event hook) when a connection of it was refused, so the test orders events
 * instead of waiting out time windows.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ZmqCurveTest {
  private static final String TOKEN = "s3cret";
  private static final long HEARTBEAT_MILLIS = 200;
  /** Silence after which a peer counts as dead: generous, since a loaded machine must not drop the good worker. */
  private static final long TIMEOUT_MILLIS = 3000;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final List<String> REFUSAL_LOGGERS = List.of("io.mpcsfaas.transport.ZapHandler",
      "io.mpcsfaas.transport.HandshakeLog");

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  @TempDir
  Path keys;
  Redis redis;
  Keys redisKeys;
  TaskStore store;
  int port;
  final List<String> deployments = new ArrayList<>();
  ZContext zctx;
  final List<Peer> peers = new ArrayList<>();
  /** What the dispatcher logs about refused peers. */
  ListAppender<ILoggingEvent> refusalLog;

  @BeforeAll
  static void makePayloads() {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))"));
  }

  @BeforeEach
  void deployCurveDispatcher() throws Exception {
    CurveKeys.generate(keys, "dispatcher");
    CurveKeys.generate(keys, "worker");
    CurveKeys.generate(keys, "stranger");
    Files.writeString(keys.resolve("authorized"), "# the workers this dispatcher accepts\n"
        + CurveKeys.read(keys.resolve("worker.pub")) + "\n");
    refusalLog = new ListAppender<>();
    refusalLog.start();
    REFUSAL_LOGGERS.forEach(name -> ((Logger) LoggerFactory.getLogger(name)).addAppender(refusalLog));

    redis = shared.client();
    String tag = TestRedis.randomTag();
    redisKeys = new Keys("c" + tag + ":");
    store = new TaskStore(redis, redisKeys);
    port = TestRedis.freePort();
    deployments.add(shared.deploy(new DispatcherVerticle(), new JsonObject()
        .put("redis.url", shared.server().url())
        .put("redis.prefix", redisKeys.prefix())
        .put("dispatcher.name", "curve-" + tag)
        .put("mode", "push")
        .put("dispatcher.port", port)
        .put("dispatcher.bind", "127.0.0.1")
        .put("worker.token", TOKEN)
        .put("curve.secret_key", keys.resolve("dispatcher.key").toString())
        .put("curve.authorized_keys", keys.resolve("authorized").toString())
        .put("heartbeat.interval_ms", HEARTBEAT_MILLIS)
        .put("heartbeat.timeout_ms", TIMEOUT_MILLIS)));
    zctx = new ZContext();
  }

  @AfterEach
  void closeEverything() {
    REFUSAL_LOGGERS.forEach(name -> ((Logger) LoggerFactory.getLogger(name)).detachAppender(refusalLog));
    peers.forEach(Peer::close); // linger 0, before the context
    if (zctx != null) {
      zctx.close();
    }
    for (int i = deployments.size() - 1; i >= 0; i--) {
      shared.undeploy(deployments.get(i)); // the worker before its dispatcher
    }
    await(redis.close());
  }

  @Test
  void onlyAWorkerWithTheRightKeysGetsTheTask() {
    String functionId = await(store.registerFunction("double", payloads.getString("fn")));
    String taskId = await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    String dispatcherKey = key("dispatcher.pub");
    String strangerKey = key("stranger.pub");
    Peer wrongServerKey = peer("wrong-server-key", key("worker.pub"), key("worker.key"), strangerKey);
    Peer unauthorized = peer("unauthorized", strangerKey, key("stranger.key"), dispatcherKey);
    Peer plain = peer("plain", null, null, null);

    pumpUntil("every bad peer's first connection is refused", () -> peers.stream().allMatch(p -> p.refusals.get() >= 1));
    assertEquals("QUEUED", task(taskId).get("status"), "no bad peer started the task");

    deployments.add(shared.deploy(new RemoteWorkerVerticle(), new JsonObject()
        .put("mode", "push")
        .put("workers", 1)
        .put("python", Py.python())
        .put("worker.id", "curve-worker")
        .put("dispatcher.url", "tcp://127.0.0.1:" + port)
        .put("worker.token", TOKEN)
        .put("curve.secret_key", keys.resolve("worker.key").toString())
        .put("curve.server_key", keys.resolve("dispatcher.pub").toString())
        .put("heartbeat.interval_ms", HEARTBEAT_MILLIS)
        .put("heartbeat.timeout_ms", TIMEOUT_MILLIS)));
    pumpUntil("the CURVE worker completes the task", () -> "COMPLETED".equals(task(taskId).get("status")));
    Map<String, String> done = task(taskId);
    assertEquals("curve-worker", done.get("worker"));
    assertEquals("42", Py.describe(done.get("result")).getString("repr"));

    // The bad peers keep trying; each is refused twice more after the task ended, and never hears a word.
    List<Integer> before = peers.stream().map(p -> p.refusals.get()).toList();
    pumpUntil("two more refusals of every bad peer", () -> {
      for (int i = 0; i < peers.size(); i++) {
        if (peers.get(i).refusals.get() < before.get(i) + 2) {
          return false;
        }
      }
      return true;
    });
    for (Peer peer : List.of(wrongServerKey, unauthorized, plain)) {
      assertEquals(List.of(), peer.inbox, peer.id + " received messages");
      assertEquals(0, peer.handshakes.get(), peer.id + " completed a handshake");
    }
    List<String> logged = refusalLog.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertEquals(1, logged.stream().filter(m -> m.contains(strangerKey)).count(),
        "the unauthorized key is logged once, not per retry: " + logged);
    assertEquals(1, logged.stream().filter(m -> m.contains("does not speak CURVE")).count(),
        "the plain peer is logged once: " + logged);
    assertTrue(unauthorized.refusals.get() >= 3 && plain.refusals.get() >= 3, "they retried");
  }

  // ---------------------------------------------------------------- peers

  /**
   * A DEALER that registers with the right token every heartbeat, and counts what its socket's event hook
   * reports. JeroMQ does not reconnect a CURVE socket whose handshake failed, so, as a worker does, the peer
   * opens a new socket each time one is refused.
   */
  final class Peer {
    final String id;
    final String publicKey;
    final String secretKey;
    final String serverKey;
    final List<JsonObject> inbox = new ArrayList<>();
    /** Connections of this peer that ended: each one the dispatcher refused (counted by JeroMQ's I/O thread). */
    final AtomicInteger refusals = new AtomicInteger();
    final AtomicInteger handshakes = new AtomicInteger();
    /** The refusals that the current socket was opened after. */
    int reopenedAfter;
    volatile ZMQ.Socket socket;
    long lastSent;

    /** {@code publicKey}, {@code secretKey}, {@code serverKey}: Z85, or all null for a plain peer. */
    Peer(String id, String publicKey, String secretKey, String serverKey) {
      this.id = id;
      this.publicKey = publicKey;
      this.secretKey = secretKey;
      this.serverKey = serverKey;
      open();
    }

    private void open() {
      ZMQ.Socket opened = zctx.createSocket(SocketType.DEALER);
      opened.setLinger(0);
      opened.setIdentity(id.getBytes(StandardCharsets.UTF_8));
      opened.setHandshakeIvl(750);
      if (publicKey != null) {
        opened.setCurvePublicKey(ZMQ.Curve.z85Decode(publicKey));
        opened.setCurveSecretKey(ZMQ.Curve.z85Decode(secretKey));
        opened.setCurveServerKey(ZMQ.Curve.z85Decode(serverKey));
      }
      // A hook, not a monitor socket: closing a socket whose monitor is busy can hang JeroMQ's I/O thread.
      opened.setEventHook(event -> {
        if (socket != opened) {
          return; // a socket already replaced
        }
        if (event.getEvent() == ZMonitor.Event.HANDSHAKE_SUCCEEDED) {
          handshakes.incrementAndGet();
        } else if (event.getEvent() == ZMonitor.Event.DISCONNECTED) {
          refusals.incrementAndGet();
        }
      }, ZMQ.EVENT_ALL);
      socket = opened;
      socket.connect("tcp://127.0.0.1:" + port);
      reopenedAfter = refusals.get();
      lastSent = 0;
    }

    void tick() {
      byte[] frame;
      while ((frame = socket.recv(ZMQ.DONTWAIT)) != null) {
        inbox.add(new JsonObject(new String(frame, StandardCharsets.UTF_8)));
      }
      if (refusals.get() > reopenedAfter) {
        ZMQ.Socket refused = socket;
        open();
        refused.close();
        return;
      }
      if (System.nanoTime() - lastSent >= TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS)) {
        JsonObject register = new JsonObject().put("v", 1).put("type", "register").put("worker", id)
            .put("mode", "push").put("slots", 1).put("busy", 0).put("token", TOKEN);
        socket.send(register.encode().getBytes(StandardCharsets.UTF_8), ZMQ.DONTWAIT);
        lastSent = System.nanoTime();
      }
    }

    void close() {
      socket.close();
    }
  }

  private Peer peer(String id, String publicKey, String secretKey, String serverKey) {
    Peer peer = new Peer(id, publicKey, secretKey, serverKey);
    peers.add(peer);
    return peer;
  }

  /** Keeps the peers trying and listening until {@code condition} holds. */
  private void pumpUntil(String what, BooleanSupplier condition) {
    eventually(WAIT, what, () -> {
      peers.forEach(Peer::tick);
      return condition.getAsBoolean();
    });
  }

  private String key(String file) {
    return CurveKeys.read(keys.resolve(file));
  }

  private Map<String, String> task(String taskId) {
    return TestRedis.hash(redis, redisKeys.task(taskId));
  }
}
