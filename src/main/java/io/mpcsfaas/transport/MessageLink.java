package io.mpcsfaas.transport;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * A way for a dispatcher and its remote workers to exchange the JSON messages of {@link Protocol}: ZeroMQ
 * sockets ({@link ZmqEndpoint}) or the Vert.x clustered event bus ({@link EventBusLink}). The scheduling on
 * top is the same for both.
 */
public interface MessageLink {

  /** Receives a message on the link owner's context, with the sending peer's id (null on a worker's link). */
  @FunctionalInterface
  interface Handler {
    void onMessage(String peer, JsonObject message);
  }

  /** Sends a message to {@code peer} (a dispatcher's link) or to the dispatcher (a worker's link, peer null). */
  void send(String peer, JsonObject message);

  default void send(JsonObject message) {
    send(null, message);
  }

  /**
   * Which of the dispatchers called {@code dispatcherNames} a worker's link knows to listen now, so that it
   * may talk to one of them without opening a new link; none when it cannot tell (ZeroMQ). Completes on the
   * link owner's context.
   */
  default Future<Set<String>> listening(List<String> dispatcherNames) {
    return Future.succeededFuture(Set.of());
  }

  /**
   * Sends a worker's messages to the dispatcher called {@code dispatcherName} from now on; only a link that
   * can tell which dispatchers {@linkplain #listening listen} can.
   */
  default void follow(String dispatcherName) {
    throw new UnsupportedOperationException("this link talks to one dispatcher");
  }

  /** Stops receiving and releases the link; may block briefly, so call it off the event loop. */
  void close();
}
