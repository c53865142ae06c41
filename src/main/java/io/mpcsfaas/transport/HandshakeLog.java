package io.mpcsfaas.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.zeromq.ZMQ;
import org.zeromq.ZMonitor;

/**
 * Says why a CURVE handshake failed, which ZeroMQ otherwise keeps to itself: a refused worker would only see a
 * dispatcher that stays silent. Each reason is logged once per process and address, since a worker tries
 * again every few seconds. The hooks run on JeroMQ's I/O thread and only log.
 */
final class HandshakeLog {
  private static final Logger LOG = LoggerFactory.getLogger(HandshakeLog.class);
  private static final Set<String> SAID = ConcurrentHashMap.newKeySet();

  private HandshakeLog() {}

  /** On a dispatcher's CURVE socket: a peer that speaks no CURVE. */
  static void watchServer(ZMQ.Socket socket, String address) {
    socket.setEventHook(event -> once("plain " + address, "refused a peer on {} that does not speak CURVE "
        + "(logged once)", address), zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  }

  /** On a worker's CURVE socket: its key refused, or a handshake that broke off (another dispatcher key). */
  static void watchClient(ZMQ.Socket socket, String address, String publicKey) {
    boolean[] ended = new boolean[1]; // this connection's handshake succeeded or was refused
    socket.setEventHook(event -> {
      ZMonitor.Event type = event.getEvent();
      if (type == ZMonitor.Event.CONNECTED) {
        ended[0] = false;
      } else if (type == ZMonitor.Event.HANDSHAKE_SUCCEEDED) {
        ended[0] = true;
      } else if (type == ZMonitor.Event.HANDSHAKE_FAILED_AUTH) {
        ended[0] = true;
        once("refused " + address, "dispatcher {} refused this worker's CURVE public key {}: it must be among the "
            + "dispatcher's --curve-authorized-keys (logged once)", address, publicKey);
      } else if (type == ZMonitor.Event.DISCONNECTED && !ended[0]) {
        once("broken " + address, "the CURVE handshake with dispatcher {} broke off: is --curve-server-key its "
            + "public key? (logged once)", address);
      }
    }, zmq.ZMQ.ZMQ_EVENT_CONNECTED | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_SUCCEEDED
        | zmq.ZMQ.ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | zmq.ZMQ.ZMQ_EVENT_DISCONNECTED);
  }

  private static void once(String reason, String message, Object... args) {
    if (SAID.add(reason)) {
      LOG.warn(message, args);
    }
  }
}
