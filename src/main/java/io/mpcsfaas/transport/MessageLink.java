package io.mpcsfaas.transport;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

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
   * Whether a worker's link knows that its dispatcher listens on it now, so that opening a new link would not
   * help; false when it does not, or cannot tell (ZeroMQ). Completes on the link owner's context.
   */
  default Future<Boolean> dispatcherListening() {
    return Future.succeededFuture(false);
  }

  /** Stops receiving and releases the link; may block briefly, so call it off the event loop. */
  void close();
}
