package io.mpcsfaas.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real ROUTER and DEALER over loopback TCP. Messages longer than JeroMQ's 8 KiB batch leave without a copy,
 * as the whole of the buffer they were written into: those, and the messages after them, must arrive as sent.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ZmqEndpointTest {
  private record Received(String peer, JsonObject message) {}

  private Vertx vertx;
  private ZmqEndpoint dispatcher;
  private ZmqEndpoint worker;
  private final BlockingQueue<Received> atDispatcher = new LinkedBlockingQueue<>();
  private final BlockingQueue<Received> atWorker = new LinkedBlockingQueue<>();

  @BeforeEach
  void connect() throws IOException {
    vertx = Vertx.vertx();
    String address = "tcp://127.0.0.1:" + freePort();
    dispatcher = ZmqEndpoint.bind(vertx.getOrCreateContext(), List.of(address), null,
        (peer, message) -> atDispatcher.add(new Received(peer, message)));
    worker = ZmqEndpoint.connect(vertx.getOrCreateContext(), address, "worker-1", null,
        (peer, message) -> atWorker.add(new Received(peer, message)));
  }

  @AfterEach
  void close() {
    worker.close();
    dispatcher.close();
    vertx.close().await();
  }

  /** Numbers make the JSON shorter than its estimate, so the array it is written into has room left over. */
  private static JsonObject big(int n) {
    return new JsonObject().put("type", "result").put("n", n).put("attempt", 1)
        .put("result", "QUJD".repeat(50_000 + n));
  }

  @Test
  void bigMessagesAndThoseAfterThemArriveAsSentBothWays() throws InterruptedException {
    List<JsonObject> sent = List.of(big(1), Protocol.heartbeat(1, 2), big(2), big(3), Protocol.heartbeat(0, 2));
    sent.forEach(message -> worker.send(null, message));
    for (JsonObject message : sent) {
      Received got = atDispatcher.poll(20, TimeUnit.SECONDS);
      assertNotNull(got, "the dispatcher got " + message.getString("type") + " " + message.getValue("n"));
      assertEquals("worker-1", got.peer());
      assertEquals(message, got.message());
    }
    sent.forEach(message -> dispatcher.send("worker-1", message));
    for (JsonObject message : sent) {
      Received got = atWorker.poll(20, TimeUnit.SECONDS);
      assertNotNull(got, "the worker got " + message.getString("type") + " " + message.getValue("n"));
      assertEquals(message, got.message());
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
