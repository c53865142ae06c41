package io.mpcsfaas.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mpcsfaas.Py;
import io.mpcsfaas.TestRedis;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * A real push worker (real JeroMQ, real Python) against a dispatcher played by a ROUTER socket: a task sent
 * without its function runs with the one the worker holds, or with the one it fetches.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RemoteWorkerFunctionsTest {
  static JsonObject payloads;

  Vertx vertx;
  ZContext zmq;
  ZMQ.Socket router;
  byte[] workerIdentity;
  final List<JsonObject> inbox = new ArrayList<>();

  @BeforeAll
  static void makePayloads() {
    payloads = Py.payloads(String.join("\n",
        "out['double'] = enc(lambda x: x * 2)",
        "out['args21'] = enc(((21,), {}))"));
  }

  @BeforeEach
  void startWorker(Vertx vertx) {
    this.vertx = vertx;
    zmq = new ZContext();
    router = zmq.createSocket(SocketType.ROUTER);
    router.setLinger(0);
    int port = router.bindToRandomPort("tcp://127.0.0.1");
    vertx.deployVerticle(new RemoteWorkerVerticle(), new io.vertx.core.DeploymentOptions().setConfig(new JsonObject()
        .put("mode", "push")
        .put("workers", 1)
        .put("python", Py.python())
        .put("worker.id", "fetching-worker")
        .put("dispatcher.url", "tcp://127.0.0.1:" + port)
        .put("heartbeat.interval_ms", 200)
        .put("heartbeat.timeout_ms", 30_000))).await();
    JsonObject register = next("register");
    assertEquals(Boolean.TRUE, register.getValue("fetch"), "it says it fetches: " + register.encode());
    send(message("welcome").put("heartbeat_ms", 200).put("timeout_ms", 30_000));
  }

  @AfterEach
  void close() {
    vertx.deploymentIDs().forEach(id -> vertx.undeploy(id).await());
    router.close();
    zmq.close();
  }

  @Test
  void aTaskWithoutAFunctionItLacksIsRunWithTheOneItFetchesThenWithTheOneItHolds() {
    send(task("t1", "fid-double"));
    assertEquals(new JsonObject().put("v", 1).put("type", "fetch").put("fid", "fid-double"), next("fetch"));
    send(message("function").put("fid", "fid-double").put("fn", payloads.getString("double")));
    assertValue("t1", "42", next("result"));

    send(task("t2", "fid-double"));
    JsonObject second = next("result");
    assertValue("t2", "42", second);
    assertFalse(inbox.stream().anyMatch(m -> "fetch".equals(m.getString("type"))), "fetched once: " + inbox);
  }

  @Test
  void aFunctionItsDispatcherNoLongerHasFailsItsTasksClearly() {
    send(task("t1", "fid-gone"));
    next("fetch");
    send(message("function").put("fid", "fid-gone"));
    JsonObject result = next("result");
    assertEquals("t1", result.getString("task"));
    assertEquals(Boolean.FALSE, result.getBoolean("ok"));
    assertTrue(result.getString("error").contains("no longer had it"), result.getString("error"));
  }

  @Test
  void aTaskWaitingForItsFunctionCanBeCancelled() {
    send(task("t1", "fid-slow-to-come"));
    next("fetch");
    send(message("cancel").put("task", "t1"));
    JsonObject result = next("result");
    assertEquals("t1", result.getString("task"));
    assertEquals("CancelledError: cancelled by request", result.getString("error"));
    // The function coming late runs nothing.
    send(message("function").put("fid", "fid-slow-to-come").put("fn", payloads.getString("double")));
    send(task("t2", "fid-slow-to-come"));
    assertValue("t2", "42", next("result"));
  }

  private static void assertValue(String taskId, String repr, JsonObject result) {
    assertEquals(taskId, result.getString("task"));
    assertEquals(Boolean.TRUE, result.getBoolean("ok"), result.encode());
    assertEquals(repr, Py.describe(result.getString("result")).getString("repr"));
  }

  private static JsonObject task(String taskId, String fid) {
    return message("task").put("task", taskId).put("fid", fid).put("args", payloads.getString("args21"))
        .put("timeout", null);
  }

  private static JsonObject message(String type) {
    return new JsonObject().put("v", 1).put("type", type);
  }

  private void send(JsonObject message) {
    router.sendMore(workerIdentity);
    router.send(message.encode().getBytes(StandardCharsets.UTF_8));
  }

  /** The next message of {@code type} from the worker (keeping what came before it in {@link #inbox}). */
  private JsonObject next(String type) {
    JsonObject[] found = new JsonObject[1];
    TestRedis.eventually(Duration.ofSeconds(20), "a " + type + " from the worker; had " + inbox, () -> {
      router.setReceiveTimeOut(100);
      byte[] identity = router.recv();
      if (identity == null) {
        return false;
      }
      workerIdentity = identity;
      JsonObject message = new JsonObject(new String(router.recv(), StandardCharsets.UTF_8));
      if (type.equals(message.getString("type"))) {
        found[0] = message;
        return true;
      }
      inbox.add(message);
      return false;
    });
    return found[0];
  }
}
