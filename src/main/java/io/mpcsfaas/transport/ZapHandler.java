package io.mpcsfaas.transport;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

/**
 * Decides which CURVE clients a ZeroMQ server socket of this process accepts: ZeroMQ asks, over ZAP (RFC 27),
 * whoever listens on {@code inproc://zeromq.zap.01} of the socket's context, and without a listener a CURVE
 * server accepts every key. One thread answers for every CURVE endpoint of the process; each endpoint has a
 * domain of its own with its set of keys. A refused key is logged once, since its worker retries every second.
 */
final class ZapHandler {
  private static final Logger LOG = LoggerFactory.getLogger(ZapHandler.class);
  private static final String ADDRESS = "inproc://zeromq.zap.01";
  /** Refused keys remembered per domain, so that a flood of made-up keys cannot fill the memory. */
  private static final int REMEMBERED_REFUSALS = 1000;

  private record Domain(Set<String> keys, Set<String> refused) {}

  private static final Map<String, Domain> DOMAINS = new ConcurrentHashMap<>();
  private static boolean listening;

  private ZapHandler() {}

  /**
   * Accepts {@code keys} (Z85) on sockets of {@code domain}; starts the process's handler on first use, so that it
   * listens before the caller's socket binds.
   */
  static synchronized void allow(ZContext context, String domain, Set<String> keys) {
    DOMAINS.put(domain, new Domain(Set.copyOf(keys), ConcurrentHashMap.newKeySet()));
    if (!listening) {
      ZMQ.Socket socket = context.createSocket(SocketType.REP);
      socket.bind(ADDRESS);
      Thread thread = new Thread(() -> serve(socket), "zmq-zap");
      thread.setDaemon(true); // lives as long as the process's ZeroMQ context
      thread.start();
      listening = true;
    }
  }

  /** Forgets a domain whose socket closed; a request for it is refused. */
  static void forget(String domain) {
    DOMAINS.remove(domain);
  }

  private static void serve(ZMQ.Socket socket) {
    while (!Thread.currentThread().isInterrupted()) {
      List<byte[]> request = new ArrayList<>();
      do {
        byte[] frame = socket.recv(0);
        if (frame == null) {
          return; // the context is closing
        }
        request.add(frame);
      } while (socket.hasReceiveMore());
      reply(socket, request);
    }
  }

  /** Request frames: version, request id, domain, address, identity, mechanism, credentials. */
  private static void reply(ZMQ.Socket socket, List<byte[]> request) {
    byte[] requestId = request.size() > 1 ? request.get(1) : new byte[0];
    boolean accepted = request.size() >= 7 && accepts(text(request.get(2)), text(request.get(3)),
        text(request.get(5)), request.get(6));
    socket.sendMore("1.0");
    socket.sendMore(requestId);
    socket.sendMore(accepted ? "200" : "400");
    socket.sendMore(accepted ? "OK" : "key not authorized");
    socket.sendMore("");
    socket.send("");
  }

  private static boolean accepts(String domainName, String address, String mechanism, byte[] credentials) {
    Domain domain = DOMAINS.get(domainName);
    if (domain == null || !mechanism.equals("CURVE") || credentials.length != ZMQ.Curve.KEY_SIZE) {
      return false;
    }
    String key = ZMQ.Curve.z85Encode(credentials);
    if (domain.keys().contains(key)) {
      return true;
    }
    if (domain.refused().size() < REMEMBERED_REFUSALS && domain.refused().add(key)) {
      LOG.warn("refused a worker at {} whose CURVE public key {} is not among the authorized keys "
          + "(logged once per key)", address, key);
    }
    return false;
  }

  private static String text(byte[] frame) {
    return new String(frame, StandardCharsets.UTF_8);
  }
}
