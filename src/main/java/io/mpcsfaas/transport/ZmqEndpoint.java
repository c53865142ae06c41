package io.mpcsfaas.transport;

import io.vertx.core.Context;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;

/**
 * A JeroMQ socket bridged to a Vert.x context: a dispatcher's ROUTER (messages carry the peer's identity) or
 * a worker's DEALER (one peer). A ZeroMQ socket is not thread-safe, but any thread may use it in turn: every
 * use here holds the endpoint's lock. A sender (an event loop) writes into the socket itself, which only
 * queues the message for JeroMQ's I/O thread and never blocks; the endpoint's own thread sleeps on the
 * socket's signal descriptor and, when messages arrive, reads all of them and hands them to the context in
 * one task. So a message costs no thread wake-up to go out, and one to come in however many arrive together.
 */
public final class ZmqEndpoint implements MessageLink {
  private static final Logger LOG = LoggerFactory.getLogger(ZmqEndpoint.class);
  /** One ZeroMQ context (and I/O thread) for the process; inproc:// peers must share it. */
  private static final ZContext ZMQ_CONTEXT = new ZContext(1);
  private static final int HIGH_WATER_MARK = 100_000;
  /** Messages read per hold of the lock, so that a sender never waits long behind a flood. */
  private static final int READ_BATCH = 256;
  private static final AtomicInteger ZAP_DOMAINS = new AtomicInteger();

  private record Frame(String peer, byte[] body) {}

  private record Incoming(String peer, JsonObject message) {}

  private final Object lock = new Object();
  private final ZMQ.Socket socket;
  private final Selector selector;
  private final boolean router;
  private final Thread receiver;
  /** The ZAP domain of a CURVE server's keys, else null. */
  private final String zapDomain;
  private volatile boolean closed;

  private ZmqEndpoint(Context context, SocketType type, List<String> addresses, String identity, CurveServer server,
      CurveClient client, Handler handler) {
    this.router = type == SocketType.ROUTER;
    this.zapDomain = server == null ? null : "mpcsfaas-" + ZAP_DOMAINS.incrementAndGet();
    socket = ZMQ_CONTEXT.createSocket(type);
    try {
      socket.setLinger(0);
      socket.setHWM(HIGH_WATER_MARK);
      // A handshake that stalls (seen under load) is abandoned and retried quickly instead of after 30 s.
      socket.setHandshakeIvl(2000);
      if (router) {
        // A worker that reconnects under the same identity takes it over from its dead connection.
        socket.setRouterHandover(true);
        if (server != null) {
          ZapHandler.allow(ZMQ_CONTEXT, zapDomain, server.authorizedKeys());
          socket.setZapDomain(zapDomain);
          socket.setCurveServer(true);
          socket.setCurveSecretKey(ZMQ.Curve.z85Decode(server.secretKey()));
          HandshakeLog.watchServer(socket, addresses.get(0));
        }
        addresses.forEach(socket::bind);
      } else {
        socket.setIdentity(identity.getBytes(StandardCharsets.UTF_8));
        if (client != null) {
          socket.setCurvePublicKey(ZMQ.Curve.z85Decode(client.publicKey()));
          socket.setCurveSecretKey(ZMQ.Curve.z85Decode(client.secretKey()));
          socket.setCurveServerKey(ZMQ.Curve.z85Decode(client.serverKey()));
          HandshakeLog.watchClient(socket, addresses.get(0), client.publicKey());
        }
        socket.setReconnectIVL(100);
        socket.setReconnectIVLMax(1000);
        addresses.forEach(socket::connect);
      }
      selector = openSelector(socket);
    } catch (ZMQException | IllegalArgumentException | IOException e) {
      ZMQ_CONTEXT.destroySocket(socket);
      forgetKeys();
      throw new IllegalStateException("cannot " + (router ? "bind " : "connect ") + addresses + ": "
          + e.getMessage(), e);
    }
    receiver = new Thread(() -> receive(context, handler),
        (router ? "zmq-router-" : "zmq-dealer-") + addresses.get(0));
    receiver.setDaemon(true);
    receiver.start();
  }

  /**
   * Binds a ROUTER socket to each address, e.g. {@code tcp://*:5555}; fails at once if one is taken. With
   * {@code curve} (else null), peers over TCP must speak CURVE with one of its keys; in-process peers need not.
   */
  public static ZmqEndpoint bind(Context context, List<String> addresses, CurveServer curve, Handler handler) {
    return new ZmqEndpoint(context, SocketType.ROUTER, addresses, null, curve, null, handler);
  }

  /**
   * Connects a DEALER socket with a stable identity, speaking CURVE with {@code curve}'s keys (else null: plain);
   * over TCP, ZeroMQ reconnects by itself if the peer restarts.
   */
  public static ZmqEndpoint connect(Context context, String address, String identity, CurveClient curve,
      Handler handler) {
    return new ZmqEndpoint(context, SocketType.DEALER, List.of(address), identity, null, curve, handler);
  }

  /** Queues a message for {@code peer} (ignored on a DEALER); callable from any thread, never blocks long. */
  @Override
  public void send(String peer, JsonObject message) {
    ByteBuffer body = JsonBytes.bytes(message);
    boolean arrived;
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (router) {
        socket.sendMore(peer.getBytes(StandardCharsets.ISO_8859_1));
      }
      socket.sendByteBuffer(body, ZMQ.DONTWAIT);
      // Sending also takes in the socket's pending commands, among them the news of arrived messages that
      // the receiving thread, asleep on the socket's signal, would then not hear of.
      arrived = (socket.getEvents() & ZMQ.Poller.POLLIN) != 0;
    }
    if (arrived) {
      selector.wakeup();
    }
  }

  /** Closes the socket and its thread; messages not yet sent are dropped. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    selector.wakeup();
    try {
      receiver.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (lock) {
      ZMQ_CONTEXT.destroySocket(socket);
    }
    forgetKeys();
    try {
      selector.close();
    } catch (IOException e) {
      LOG.debug("closing a selector: {}", e.getMessage());
    }
  }

  private void forgetKeys() {
    if (zapDomain != null) {
      ZapHandler.forget(zapDomain);
    }
  }

  private static Selector openSelector(ZMQ.Socket socket) throws IOException {
    Selector selector = Selector.open();
    try {
      socket.getFD().register(selector, SelectionKey.OP_READ);
      return selector;
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  private void receive(Context context, Handler handler) {
    while (!closed) {
      try {
        if (closed) {
          break;
        }
        if (handOver(context, handler) < READ_BATCH) {
          selector.select(1000);
          selector.selectedKeys().clear();
        }
      } catch (IOException | RuntimeException e) {
        if (closed) {
          break;
        }
        // The endpoint must outlive one bad turn: a dispatcher has no other way to hear its workers.
        LOG.error("ZeroMQ endpoint {}: receiving failed; going on", receiver.getName(), e);
        pauseAfterFailure();
      }
    }
  }

  /**
   * Reads what waits on the socket and hands it to the event loop; the number of messages read. The frames are
   * dropped here, not kept while the thread sleeps on the socket: a big one is a copy of a task's arguments or
   * result that nobody needs once parsed.
   */
  private int handOver(Context context, Handler handler) {
    List<Frame> frames;
    synchronized (lock) {
      if (closed) {
        return 0;
      }
      frames = receiveSome();
    }
    List<Incoming> batch = decode(frames);
    if (!batch.isEmpty()) {
      // Waking an event loop costs more than handling a message: one wake-up carries all that came.
      context.runOnContext(v -> batch.forEach(in -> deliver(handler, in)));
    }
    return frames.size();
  }

  private static void pauseAfterFailure() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Reads the messages waiting on the socket, up to {@link #READ_BATCH}; call holding the lock. */
  private List<Frame> receiveSome() {
    List<Frame> batch = new ArrayList<>();
    byte[] frame;
    while (batch.size() < READ_BATCH && (frame = socket.recv(ZMQ.DONTWAIT)) != null) {
      String peer = null;
      if (router) {
        peer = new String(frame, StandardCharsets.ISO_8859_1); // identities are bytes: keep them exact
        frame = socket.recv(ZMQ.DONTWAIT);
      }
      while (socket.hasReceiveMore()) {
        socket.recv(ZMQ.DONTWAIT);
      }
      if (frame != null) {
        batch.add(new Frame(peer, frame));
      }
    }
    return batch;
  }

  private static List<Incoming> decode(List<Frame> frames) {
    List<Incoming> batch = new ArrayList<>(frames.size());
    for (Frame frame : frames) {
      try {
        batch.add(new Incoming(frame.peer(), JsonBytes.object(frame.body())));
      } catch (RuntimeException e) {
        LOG.debug("ignoring a message that is not a JSON object from {}", frame.peer());
      }
    }
    return batch;
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
