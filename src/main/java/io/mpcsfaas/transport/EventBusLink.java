package io.mpcsfaas.transport;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

/**
 * The {@link Protocol} messages over the Vert.x event bus, which a clustered Vert.x (Hazelcast) carries
 * between JVMs: the dispatcher listens on {@code mpcsfaas.dispatcher.<name>}, each worker on
 * {@code mpcsfaas.worker.<id>}, and a worker's messages carry its id in the {@code from} header.
 */
public final class EventBusLink implements MessageLink {
  private static final String FROM = "from";

  private final Vertx vertx;
  private final MessageConsumer<JsonObject> consumer;
  private final String dispatcherAddress;
  private final String workerId;

  private EventBusLink(Vertx vertx, MessageConsumer<JsonObject> consumer, String dispatcherAddress, String workerId) {
    this.vertx = vertx;
    this.consumer = consumer;
    this.dispatcherAddress = dispatcherAddress;
    this.workerId = workerId;
  }

  public static String dispatcherAddress(String dispatcherName) {
    return "mpcsfaas.dispatcher." + dispatcherName;
  }

  private static String workerAddress(String workerId) {
    return "mpcsfaas.worker." + workerId;
  }

  /** The dispatcher's end; completes once its address is registered across the cluster. */
  public static Future<MessageLink> dispatcher(Vertx vertx, String dispatcherName, Handler handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(dispatcherAddress(dispatcherName),
        message -> handler.onMessage(message.headers().get(FROM), message.body()));
    return consumer.completion().map(v -> new EventBusLink(vertx, consumer, null, null));
  }

  /** A worker's end, talking to the dispatcher called {@code dispatcherName}. */
  public static Future<MessageLink> worker(Vertx vertx, String dispatcherName, String workerId, Handler handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(workerAddress(workerId),
        message -> handler.onMessage(null, message.body()));
    return consumer.completion().map(v -> new EventBusLink(vertx, consumer, dispatcherAddress(dispatcherName),
        workerId));
  }

  @Override
  public void send(String peer, JsonObject message) {
    if (workerId == null) {
      vertx.eventBus().send(workerAddress(peer), message);
    } else {
      vertx.eventBus().send(dispatcherAddress, message, new DeliveryOptions().addHeader(FROM, workerId));
    }
  }

  @Override
  public void close() {
    consumer.unregister();
  }
}
