package io.mpcsfaas.dispatch;

import static io.mpcsfaas.TestRedis.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.RedisAndVertx;
import io.mpcsfaas.TaskSteps;
import io.mpcsfaas.TestRedis;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.TaskStore;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A push dispatcher with a worker token, spoken to over raw JeroMQ DEALER sockets exactly as docs/protocol.md
 * describes the wire: one JSON frame per message. Strangers and impostors get nothing and change nothing; a
 * registered worker gets its task and its result is stored once; a silent worker loses its task to another,
 * and its late result is ignored.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ZmqSecurityTest {
  private static final String TOKEN = "s3cret";
  private static final long HEARTBEAT_MILLIS = 200;
  private static final long TIMEOUT_MILLIS = 1000;
  private static final int HANDSHAKE_MILLIS = 750;

  @RegisterExtension
  static final RedisAndVertx shared = new RedisAndVertx(false);
  static JsonObject payloads;

  Redis redis;
  Keys keys;
  TaskStore store;
  int port;
  String deployment;
  ZContext zmq;
  final List<Peer> peers = new ArrayList<>();

  @BeforeAll
  static void setUp() throws Exception {
    payloads = Py.payloads(String.join("\n",
        "out['fn'] = enc(lambda x: x * 2)",
        "out['args'] = enc(((21,), {}))",
        "out['r42'] = enc(42)",
        "out['forged'] = enc('forged by a stranger')",
        "out['late'] = enc('late result of a dropped worker')",
        "out['second'] = enc('a second result for an ended task')"));
  }

  @BeforeEach
  void deployDispatcher() {
    redis = shared.client();
    String tag = TestRedis.randomTag();
    keys = new Keys("z" + tag + ":");
    store = new TaskStore(redis, keys);
    port = TestRedis.freePort();
    deployment = shared.deploy(new DispatcherVerticle(), new JsonObject()
        .put("redis.url", shared.server().url())
        .put("redis.prefix", keys.prefix())
        .put("dispatcher.name", "zmq-" + tag)
        .put("mode", "push")
        .put("dispatcher.port", port)
        .put("dispatcher.bind", "127.0.0.1")
        .put("worker.token", TOKEN)
        .put("heartbeat.interval_ms", HEARTBEAT_MILLIS)
        .put("heartbeat.timeout_ms", TIMEOUT_MILLIS));
    zmq = new ZContext();
  }

  @AfterEach
  void closeEverything() {
    for (Peer peer : peers) {
      peer.close(); // linger 0, before the context
    }
    if (zmq != null) {
      zmq.close();
    }
    if (deployment != null) {
      shared.undeploy(deployment);
    }
    await(redis.close());
  }

  // ---------------------------------------------------------------- strangers

  @Test
  void aStrangerGetsOnlyUnknownAndCannotPostAResult() {
    String taskId = newTask();
    Map<String, String> before = hash(taskId);
    Peer stranger = peer("stranger");

    stranger.send(result(taskId, true, payloads.getString("forged"), null));
    stranger.send(message("ask").put("n", 1));
    stranger.send(message("heartbeat").put("busy", 0));
    stranger.send(result(taskId, false, payloads.getString("forged"), "Traceback: forged"));
    pumpUntil(Duration.ofSeconds(5), "an answer to each of the stranger's 4 messages",
        () -> stranger.inbox.size() >= 4);

    holdFor(Duration.ofSeconds(2), "the task stays QUEUED with no result", () -> {
      Map<String, String> task = hash(taskId);
      return "QUEUED".equals(task.get("status")) && !task.containsKey("result");
    });
    assertEquals(before, hash(taskId), "nothing about the task changed");
    assertEquals(4, stranger.inbox.size(), "one answer per message: " + stranger.inbox);
    stranger.inbox.forEach(m -> assertEquals("unknown", m.getString("type"), "only unknown: " + stranger.inbox));
    stranger.inbox.forEach(m -> assertEquals(1, m.getInteger("v"), m.encode()));
  }

  @Test
  void aWorkerWithTheWrongTokenIsRefusedAndGetsNoTask() {
    String taskId = newTask();
    Peer impostor = peer("impostor");

    impostor.send(register("impostor", "wrong"));
    pumpUntil(Duration.ofSeconds(5), "refused", () -> impostor.has("refused"));
    JsonObject refused = impostor.first("refused");
    assertTrue(refused.getString("reason") != null && !refused.getString("reason").isBlank(), refused.encode());

    // No token at all, an empty one, the right one with another case: refused too.
    impostor.send(message("register").put("worker", "impostor").put("mode", "push").put("slots", 1).put("busy", 0));
    impostor.send(register("impostor", ""));
    impostor.send(register("impostor", TOKEN.toUpperCase()));
    // Having been refused, it is still unknown.
    impostor.send(message("ask").put("n", 1));
    impostor.send(message("heartbeat").put("busy", 0));
    pumpUntil(Duration.ofSeconds(5), "answers to the impostor's 5 further messages",
        () -> impostor.inbox.size() >= 6);

    holdFor(Duration.ofSeconds(2), "the task stays QUEUED", () -> "QUEUED".equals(hash(taskId).get("status")));
    assertEquals(List.of("refused", "refused", "refused", "refused", "unknown", "unknown"), impostor.types(),
        impostor.inbox.toString());
    assertFalse(impostor.has("task"));
    assertFalse(impostor.has("welcome"));
    assertEquals("0", hash(taskId).get("attempts"));
  }

  // ---------------------------------------------------------------- a registered worker

  @Test
  void aRegisteredWorkerGetsTheTaskAndItsResultIsStoredOnce() {
    String functionId = await(store.registerFunction("double", payloads.getString("fn")));
    String taskId = await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    Peer worker = joinedWithATask("worker-1");
    JsonObject welcome = worker.first("welcome");
    assertNotNull(welcome, "welcomed: " + worker.inbox);
    assertEquals(HEARTBEAT_MILLIS, welcome.getLong("heartbeat_ms"));
    assertEquals(TIMEOUT_MILLIS, welcome.getLong("timeout_ms"));
    JsonObject task = worker.first("task");
    assertEquals(1, task.getInteger("v"));
    assertEquals(taskId, task.getString("task"));
    assertEquals(functionId, task.getString("fid"));
    assertEquals(payloads.getString("fn"), task.getString("fn"));
    assertEquals(payloads.getString("args"), task.getString("args"));
    assertNull(task.getValue("timeout"), "no timeout asked: " + task);
    assertEquals("RUNNING", hash(taskId).get("status"));
    assertEquals("1", hash(taskId).get("attempts"));

    // A stranger cannot end the task it runs.
    Peer stranger = peer("stranger-2");
    stranger.send(result(taskId, true, payloads.getString("forged"), null));
    pumpUntil(Duration.ofSeconds(5), "the stranger is told it is unknown", () -> stranger.has("unknown"));
    holdFor(Duration.ofMillis(500), "the task keeps running", () -> "RUNNING".equals(hash(taskId).get("status")));

    worker.send(result(taskId, true, payloads.getString("r42"), null));
    pumpUntil(Duration.ofSeconds(5), "the result is stored", () -> "COMPLETED".equals(hash(taskId).get("status")));
    Map<String, String> stored = hash(taskId);
    assertEquals(payloads.getString("r42"), stored.get("result"));
    assertEquals("worker-1", stored.get("worker"));
    assertEquals("42", Py.describe(stored.get("result")).getString("repr"));

    // A second result for the same task changes nothing.
    worker.send(result(taskId, false, payloads.getString("second"), "Traceback: second"));
    holdFor(Duration.ofSeconds(1), "the stored result stays", () -> stored.equals(hash(taskId)));
    assertEquals(1, worker.count("task"), "one task sent: " + worker.types());
    assertFalse(stranger.has("task"));
  }

  @Test
  void aPushWorkerGetsAsManyTasksAsItSaysItCanHold() {
    List<String> taskIds = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      taskIds.add(newTask());
    }
    Peer worker = joinedWithATask("worker-1");
    holdFor(Duration.ofMillis(500), "one task for its one slot", () -> worker.count("task") == 1);

    worker.hold = 4;
    worker.send(worker.heartbeat());
    pumpUntil(Duration.ofSeconds(5), "three more tasks once it says it can hold 4", () -> worker.count("task") == 4);
    holdFor(Duration.ofMillis(500), "no more than it can hold", () -> worker.count("task") == 4);

    worker.hold = 2;
    worker.send(worker.heartbeat());
    String first = worker.first("task").getString("task");
    worker.send(result(first, true, payloads.getString("r42"), null));
    pumpUntil(Duration.ofSeconds(5), "the result is stored", () -> "COMPLETED".equals(hash(first).get("status")));
    holdFor(Duration.ofMillis(500), "no new task while it holds more than it can now", () -> worker.count("task") == 4);
    assertTrue(taskIds.contains(first));
  }

  @Test
  void aSilentWorkerIsDroppedItsTaskRunsElsewhereAndItsLateResultIsIgnored() {
    String taskId = newTask();
    Peer first = peer("worker-a");
    first.join(TOKEN);
    pumpUntil(Duration.ofSeconds(10), "the first worker gets the task", () -> first.has("task"));
    assertEquals(taskId, first.first("task").getString("task"));

    Peer second = peer("worker-b");
    second.join(TOKEN);
    pumpUntil(Duration.ofSeconds(5), "the second worker is welcome", () -> second.has("welcome"));
    // While the first worker beats, it keeps its task, well past the timeout.
    holdFor(Duration.ofMillis(2 * TIMEOUT_MILLIS), "the task stays with the heartbeating first worker",
        () -> !second.has("task") && "1".equals(hash(taskId).get("attempts")));

    first.beating = false;
    pumpUntil(Duration.ofSeconds(10), "the task is re-sent to the second worker", () -> second.has("task"));
    JsonObject resent = second.first("task");
    assertEquals(taskId, resent.getString("task"));
    assertEquals(payloads.getString("args"), resent.getString("args"));
    assertEquals("2", hash(taskId).get("attempts"), "the lost attempt counts");
    assertEquals("RUNNING", hash(taskId).get("status"));

    // The first worker comes back with its result: unknown (dropped), then registered again, still ignored.
    int unknownsBefore = first.count("unknown");
    first.send(result(taskId, true, payloads.getString("late"), null));
    pumpUntil(Duration.ofSeconds(5), "the dropped worker is told it is unknown",
        () -> first.count("unknown") > unknownsBefore);
    int welcomesBefore = first.count("welcome");
    first.join(TOKEN);
    pumpUntil(Duration.ofSeconds(5), "the first worker is welcome again",
        () -> first.count("welcome") > welcomesBefore);
    first.send(result(taskId, true, payloads.getString("late"), null));
    holdFor(Duration.ofMillis(700), "the late result is not stored",
        () -> "RUNNING".equals(hash(taskId).get("status")) && !hash(taskId).containsKey("result"));

    second.send(result(taskId, true, payloads.getString("r42"), null));
    pumpUntil(Duration.ofSeconds(5), "the second worker's result is stored",
        () -> "COMPLETED".equals(hash(taskId).get("status")));
    first.send(result(taskId, true, payloads.getString("late"), null));
    holdFor(Duration.ofMillis(500), "still the second worker's result",
        () -> payloads.getString("r42").equals(hash(taskId).get("result")));
    Map<String, String> stored = hash(taskId);
    assertEquals(payloads.getString("r42"), stored.get("result"));
    assertEquals("worker-b", stored.get("worker"));
    assertEquals(1, first.count("task"), "the first worker got no other task: " + first.types());
  }


  /**
   * A registered worker that breaks the protocol with a {@code result} without its {@code "result"} field must
   * not leave the task RUNNING for ever: whatever the dispatcher makes of it (a failure, a re-run, or waiting
   * for the proper result the worker sends next), the task must end or run again.
   */
  @Test
  void aResultWithoutItsResultFieldDoesNotStrandTheTask() {
    String taskId = newTask();
    Peer worker = joinedWithATask("worker-m");

    worker.send(message("result").put("task", taskId).put("ok", true).put("error", (String) null));
    worker.send(result(taskId, true, payloads.getString("r42"), null));
    try {
      pumpUntil(Duration.ofSeconds(5), "the task ends or is handed out again", () -> {
        Map<String, String> task = hash(taskId);
        return !"RUNNING".equals(task.get("status")) || !"1".equals(task.get("attempts"));
      });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the task is stranded: " + hash(taskId), e);
    }
  }

  /** A message the dispatcher chokes on (a mistyped field) must not cost the ones that came with it. */
  @Test
  void aMalformedMessageDoesNotCostTheResultBehindIt() {
    String taskId = newTask();
    Peer worker = joinedWithATask("worker-x");
    for (int i = 0; i < 20; i++) {
      worker.send(message("ask").put("n", "many"));
    }
    worker.send(result(taskId, true, payloads.getString("r42"), null));
    pumpUntil(Duration.ofSeconds(5), "the result is stored", () -> "COMPLETED".equals(hash(taskId).get("status")));
  }

  // ---------------------------------------------------------------- functions sent once

  @Test
  void aWorkerThatFetchesIsSentEachFunctionOncePerSessionAndGetsItAgainWhenItAsks() {
    String functionId = await(store.registerFunction("double", payloads.getString("fn")));
    String first = await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    Peer worker = peer("fetcher");
    worker.registerFields = new JsonObject().put("session", "s1").put("fetch", true);
    worker.join(TOKEN);
    pumpUntil(Duration.ofSeconds(10), "the first task reaches the worker", () -> worker.has("task"));
    assertEquals(payloads.getString("fn"), worker.first("task").getString("fn"), "the first task carries it");

    worker.send(result(first, true, payloads.getString("r42"), null));
    String second = await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    pumpUntil(Duration.ofSeconds(10), "the second task", () -> worker.count("task") == 2);
    JsonObject task = tasks(worker).get(1);
    assertEquals(second, task.getString("task"));
    assertEquals(functionId, task.getString("fid"));
    assertFalse(task.containsKey("fn"), "sent once: " + task.encode());

    // The worker let it go: it asks, and is answered.
    worker.send(message("fetch").put("fid", functionId));
    pumpUntil(Duration.ofSeconds(5), "the function", () -> worker.has("function"));
    assertEquals(new JsonObject().put("v", 1).put("type", "function").put("fid", functionId)
        .put("fn", payloads.getString("fn")), worker.first("function"));

    // Restarted (a new session): the dispatcher runs the second task again, with the function.
    worker.registerFields.put("session", "s2");
    worker.join(TOKEN);
    pumpUntil(Duration.ofSeconds(10), "the second task again", () -> worker.count("task") == 3);
    assertEquals(second, tasks(worker).get(2).getString("task"));
    assertEquals(payloads.getString("fn"), tasks(worker).get(2).getString("fn"), "a new session is sent it anew");
  }

  @Test
  void aWorkerThatDoesNotSayItFetchesIsSentTheFunctionWithEveryTask() {
    String functionId = await(store.registerFunction("double", payloads.getString("fn")));
    String first = await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    Peer worker = joinedWithATask("older-worker");
    worker.send(result(first, true, payloads.getString("r42"), null));
    await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
    pumpUntil(Duration.ofSeconds(10), "the second task", () -> worker.count("task") == 2);
    tasks(worker).forEach(task -> assertEquals(payloads.getString("fn"), task.getString("fn"), task.encode()));
  }

  private static List<JsonObject> tasks(Peer peer) {
    return peer.inbox.stream().filter(m -> "task".equals(m.getString("type"))).toList();
  }

  // ---------------------------------------------------------------- wire helpers

  /** One DEALER socket with a fixed identity, and everything it received. */
  final class Peer {
    final String id;
    final ZMQ.Socket socket;
    final List<JsonObject> inbox = new ArrayList<>();
    boolean beating;
    /** The tasks its heartbeats say it can hold (push mode); null: not said, its slots count. */
    Integer hold;
    long lastSent;
    /** While set and no new welcome came, the peer registers again every interval (as workers do). */
    String joiningWith;
    /** What its registers add: a session, or that it fetches functions. */
    JsonObject registerFields = new JsonObject();
    int welcomesBeforeJoining;

    Peer(String id) {
      this.id = id;
      socket = zmq.createSocket(SocketType.DEALER);
      socket.setLinger(0);
      socket.setIdentity(id.getBytes(StandardCharsets.UTF_8));
      // JeroMQ 0.6.0 sometimes leaves a fresh outgoing connection without its ZMTP handshake (more often
      // under load; zeromq/jeromq#1022) until the handshake timer, 30 s by default, reconnects it: keep it short.
      socket.setHandshakeIvl(HANDSHAKE_MILLIS);
      socket.connect("tcp://127.0.0.1:" + port);
    }

    void send(JsonObject message) {
      assertTrue(socket.send(message.encode().getBytes(StandardCharsets.UTF_8), ZMQ.DONTWAIT),
          id + " could not send " + message.encode());
      lastSent = System.nanoTime();
    }

    /** Registers with {@code token} (again every interval until welcome), then heartbeats. */
    void join(String token) {
      joiningWith = token;
      welcomesBeforeJoining = count("welcome");
      beating = true;
      send(register(id, token).mergeIn(registerFields));
    }

    void receiveAll() {
      byte[] frame;
      while ((frame = socket.recv(ZMQ.DONTWAIT)) != null) {
        inbox.add(new JsonObject(new String(frame, StandardCharsets.UTF_8)));
      }
    }

    /** Takes in what arrived, and heartbeats (or registers again) when it is meant to be alive. */
    void tick() {
      receiveAll();
      if (beating && System.nanoTime() - lastSent >= TimeUnit.MILLISECONDS.toNanos(HEARTBEAT_MILLIS)) {
        boolean welcome = count("welcome") > welcomesBeforeJoining;
        send(joiningWith != null && !welcome ? register(id, joiningWith).mergeIn(registerFields) : heartbeat());
      }
    }

    JsonObject heartbeat() {
      JsonObject heartbeat = message("heartbeat").put("busy", 0);
      return hold == null ? heartbeat : heartbeat.put("hold", hold);
    }

    /** What it received, without the dispatcher's heartbeats. */
    List<String> types() {
      return inbox.stream().map(m -> m.getString("type")).filter(t -> !t.equals("heartbeat")).toList();
    }

    boolean has(String type) {
      return count(type) > 0;
    }

    int count(String type) {
      return (int) inbox.stream().filter(m -> type.equals(m.getString("type"))).count();
    }

    JsonObject first(String type) {
      return inbox.stream().filter(m -> type.equals(m.getString("type"))).findFirst().orElse(null);
    }

    void close() {
      socket.setLinger(0);
      socket.close();
    }
  }

  /** A worker that joined with the right token and has been sent a task. */
  private Peer joinedWithATask(String id) {
    Peer worker = peer(id);
    worker.join(TOKEN);
    pumpUntil(Duration.ofSeconds(10), "the task reaches the worker", () -> worker.has("task"));
    return worker;
  }

  private Peer peer(String id) {
    Peer peer = new Peer(id);
    peers.add(peer);
    return peer;
  }

  /** Keeps every peer this test made ticking until {@code condition} holds. */
  private void pumpUntil(Duration timeout, String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      tickAll();
      if (condition.getAsBoolean()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout.toMillis() + " ms: " + what + "; received "
            + peers.stream().map(p -> p.id + "=" + p.types()).toList());
      }
      waitForTraffic(20);
    }
  }

  /** Keeps every peer ticking for {@code duration}, checking that {@code condition} holds throughout. */
  private void holdFor(Duration duration, String what, BooleanSupplier condition) {
    long until = System.nanoTime() + duration.toNanos();
    do {
      tickAll();
      if (!condition.getAsBoolean()) {
        throw new AssertionError("stopped holding within " + duration.toMillis() + " ms: " + what + "; received "
            + peers.stream().map(p -> p.id + "=" + p.types()).toList());
      }
      waitForTraffic(50);
    } while (System.nanoTime() < until);
  }

  private void tickAll() {
    peers.forEach(Peer::tick);
  }

  /** Waits up to {@code millis} for any peer's socket to have something to read (no sleeping). */
  private void waitForTraffic(long millis) {
    ZMQ.Poller poller = zmq.createPoller(peers.size());
    try {
      peers.forEach(p -> poller.register(p.socket, ZMQ.Poller.POLLIN));
      poller.poll(millis);
    } finally {
      poller.close();
    }
  }

  private static JsonObject message(String type) {
    return new JsonObject().put("v", 1).put("type", type);
  }

  private static JsonObject register(String worker, String token) {
    return message("register").put("worker", worker).put("mode", "push").put("slots", 1).put("busy", 0)
        .put("token", token);
  }

  private static JsonObject result(String taskId, boolean ok, String result, String error) {
    return message("result").put("task", taskId).put("ok", ok).put("result", result).put("error", error);
  }

  private String newTask() {
    String functionId = await(store.registerFunction("double", payloads.getString("fn")));
    return await(TaskSteps.createTask(store, functionId, payloads.getString("args"), null));
  }

  private Map<String, String> hash(String taskId) {
    return TestRedis.hash(redis, keys.task(taskId));
  }
}
