package io.mpcsfaas.transport;

import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A JeroMQ socket owned by one thread and bridged to a Vert.x context: a dispatcher's ROUTER (messages carry
 * the peer's identity) or a worker's DEALER (one peer). Outgoing messages wait in a queue and an inproc
 * "doorbell" wakes the socket's thread, so the event loop never blocks on ZeroMQ; incoming messages are
 * decoded on that thread and handed to the context.
 */
public final class ZmqEndpoint implements MessageLink {
  private static final Logger LOG = LoggerFactory.getLogger(ZmqEndpoint.class);
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final int HIGH_WATER_MARK = 100_000;

  private record Outgoing(String peer, JsonObject message) {}

  private record Incoming(String peer, JsonObject message) {}

  private final ZContext zmq = new ZContext(1);
  private final ConcurrentLinkedQueue<Outgoing> outbox = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean doorbellRung = new AtomicBoolean();
  private final CountDownLatch ready = new CountDownLatch(1);
  private final ZMQ.Socket doorbell;
  private final boolean router;
  private final Thread thread;
  private volatile boolean closed;
  private volatile RuntimeException startFailure;

  private ZmqEndpoint(Context context, SocketType type, String address, String identity, Handler handler) {
    this.router = type == SocketType.ROUTER;
    String bell = "inproc://doorbell-" + SEQUENCE.incrementAndGet();
    ZMQ.Socket bellIn = zmq.createSocket(SocketType.PAIR);
    bellIn.bind(bell);
    doorbell = zmq.createSocket(SocketType.PAIR);
    doorbell.connect(bell);
    thread = new Thread(() -> loop(context, type, address, identity, handler, bellIn),
        (router ? "zmq-router-" : "zmq-dealer-") + address);
    thread.setDaemon(true);
    thread.start();
    awaitReady();
  }

  /** Binds a ROUTER socket, e.g. {@code tcp://*:5555}; fails at once if the address is taken. */
  public static ZmqEndpoint bind(Context context, String address, Handler handler) {
    return new ZmqEndpoint(context, SocketType.ROUTER, address, null, handler);
  }

  /** Connects a DEALER socket with a stable identity; ZeroMQ reconnects by itself if the peer restarts. */
  public static ZmqEndpoint connect(Context context, String address, String identity, Handler handler) {
    return new ZmqEndpoint(context, SocketType.DEALER, address, identity, handler);
  }

  /** Queues a message for {@code peer} (ignored on a DEALER); callable from any thread. */
  @Override
  public void send(String peer, JsonObject message) {
    if (closed) {
      return;
    }
    outbox.add(new Outgoing(peer, message));
    if (doorbellRung.compareAndSet(false, true)) {
      synchronized (doorbell) {
        doorbell.send(new byte[0], ZMQ.DONTWAIT);
      }
    }
  }

  /** Closes the socket and its thread; queued messages not yet sent are dropped. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    synchronized (doorbell) {
      doorbell.send(new byte[0], ZMQ.DONTWAIT);
    }
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (doorbell) {
      doorbell.setLinger(0);
      doorbell.close();
    }
    zmq.close();
  }

  private void awaitReady() {
    try {
      ready.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (startFailure != null) {
      close();
      throw startFailure;
    }
  }

  private void loop(Context context, SocketType type, String address, String identity, Handler handler,
      ZMQ.Socket bellIn) {
    ZMQ.Socket socket = zmq.createSocket(type);
    try {
      socket.setLinger(0);
      socket.setHWM(HIGH_WATER_MARK);
      // A handshake that stalls (seen under load) is abandoned and retried quickly instead of after 30 s.
      socket.setHandshakeIvl(2000);
      if (router) {
        // A worker that reconnects under the same identity takes it over from its dead connection.
        socket.setRouterHandover(true);
        socket.bind(address);
      } else {
        socket.setIdentity(identity.getBytes(StandardCharsets.UTF_8));
        socket.setReconnectIVL(100);
        socket.setReconnectIVLMax(1000);
        socket.connect(address);
      }
    } catch (ZMQException | IllegalArgumentException e) {
      startFailure = new IllegalStateException("cannot " + (router ? "bind " : "connect ") + address + ": "
          + e.getMessage(), e);
      ready.countDown();
      socket.close();
      bellIn.close();
      return;
    }
    ready.countDown();
    ZMQ.Poller poller = zmq.createPoller(2);
    int socketIndex = poller.register(socket, ZMQ.Poller.POLLIN);
    int bellIndex = poller.register(bellIn, ZMQ.Poller.POLLIN);
    try {
      while (!closed) {
        poller.poll(1000);
        if (poller.pollin(bellIndex)) {
          while (bellIn.recv(ZMQ.DONTWAIT) != null) {
            // drain the doorbell; the outbox holds the messages
          }
        }
        if (closed) {
          break;
        }
        doorbellRung.set(false);
        Outgoing out;
        while ((out = outbox.poll()) != null) {
          if (router) {
            socket.sendMore(out.peer().getBytes(StandardCharsets.ISO_8859_1));
          }
          socket.send(out.message().toBuffer().getBytes(), ZMQ.DONTWAIT);
        }
        if (poller.pollin(socketIndex)) {
          receiveAll(context, socket, handler);
        }
      }
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.error("ZeroMQ endpoint {} stopped", address, e);
      }
    } finally {
      poller.close();
      socket.close();
      bellIn.close();
    }
  }

  /**
   * Reads every message waiting on the socket and hands them to the context in one task: waking an event
   * loop costs more than handling a message, so under load one wake-up carries many.
   */
  private void receiveAll(Context context, ZMQ.Socket socket, Handler handler) {
    List<Incoming> batch = new ArrayList<>();
    byte[] frame;
    while ((frame = socket.recv(ZMQ.DONTWAIT)) != null) {
      String peer = null;
      if (router) {
        peer = new String(frame, StandardCharsets.ISO_8859_1); // identities are bytes: keep them exact
        frame = socket.recv(ZMQ.DONTWAIT);
      }
      while (socket.hasReceiveMore()) {
        socket.recv(ZMQ.DONTWAIT);
      }
      if (frame == null) {
        continue;
      }
      try {
        batch.add(new Incoming(peer, new JsonObject(new String(frame, StandardCharsets.UTF_8))));
      } catch (RuntimeException e) {
        LOG.debug("ignoring a message that is not a JSON object from {}", peer);
      }
    }
    if (!batch.isEmpty()) {
      context.runOnContext(v -> batch.forEach(in -> deliver(handler, in)));
    }
  }

  /** Hands over one message; one the handler chokes on must not cost the others of its batch. */
  private static void deliver(Handler handler, Incoming in) {
    try {
      handler.onMessage(in.peer(), in.message());
    } catch (RuntimeException e) {
      LOG.warn("ignoring a message from {} that could not be handled: {}", in.peer(), e.toString());
    }
  }
}
