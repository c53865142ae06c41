package io.mpcsfaas.transport;

import io.mpcsfaas.config.ClusterConfig;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.spi.cluster.RegistrationInfo;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@link Protocol} messages over the Vert.x event bus, which a clustered Vert.x (Hazelcast) carries
 * between JVMs: the dispatcher listens on {@code mpcsfaas.dispatcher.<name>}, each worker on
 * {@code mpcsfaas.worker.<id>}, and a worker's messages carry its id in the {@code from} header. A worker's
 * link either uses the clustered Vert.x it runs on, or {@linkplain #join joins the cluster} for itself, so
 * that closing it leaves the cluster and opening the next joins it again; such a link can tell which
 * dispatchers listen in its cluster, and {@linkplain #follow follow} another when its own is gone.
 */
public final class EventBusLink implements MessageLink {
  private static final String FROM = "from";

  private final Vertx vertx;
  private final MessageConsumer<JsonObject> consumer;
  /** Where a worker's messages go; written and read on the link owner's context. */
  private String dispatcherAddress;
  private final String workerId;
  /** The membership this link joined for itself (closing the link ends it), else null. */
  private final ClusterManager member;
  /** Where the owner of a link with a membership of its own gets its messages and answers. */
  private final Context context;
  private volatile boolean closed;

  private EventBusLink(Vertx vertx, MessageConsumer<JsonObject> consumer, String dispatcherAddress, String workerId,
      ClusterManager member, Context context) {
    this.vertx = vertx;
    this.consumer = consumer;
    this.dispatcherAddress = dispatcherAddress;
    this.workerId = workerId;
    this.member = member;
    this.context = context;
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
    return consumer.completion().map(v -> new EventBusLink(vertx, consumer, null, null, null, null));
  }

  /** A worker's end on the clustered Vert.x it runs on, talking to the dispatcher called {@code dispatcherName}. */
  public static Future<MessageLink> worker(Vertx vertx, String dispatcherName, String workerId, Handler handler) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(workerAddress(workerId),
        message -> handler.onMessage(null, message.body()));
    return consumer.completion().map(v -> new EventBusLink(vertx, consumer, dispatcherAddress(dispatcherName),
        workerId, null, null));
  }

  /**
   * A worker's end that joins the cluster as a member of its own (through {@code cluster}'s join list),
   * talking to the dispatcher called {@code dispatcherName}; messages and the outcome arrive on
   * {@code context}. A worker whose dispatcher restarted closes it and joins again: the restarted
   * dispatcher forms a cluster of its own, which the workers' cluster would not merge with for minutes.
   */
  public static Future<MessageLink> join(Context context, ClusterConfig cluster, String dispatcherName,
      String workerId, Handler handler) {
    Promise<MessageLink> joined = Promise.promise();
    // On a thread of its own: loading Hazelcast's config takes seconds the first time, which the caller's
    // event loop must not spend (and a Vert.x built on another one's context warns).
    Thread join = new Thread(() -> {
      HazelcastClusterManager manager = ClusterMember.manager(cluster);
      Vertx.builder().with(ClusterMember.options(cluster)).withClusterManager(manager).buildClustered()
        .compose(clustered -> {
          MessageConsumer<JsonObject> consumer = clustered.eventBus().consumer(workerAddress(workerId),
              message -> context.runOnContext(v -> handler.onMessage(null, message.body())));
          return consumer.completion()
              .<MessageLink>map(v -> new EventBusLink(clustered, consumer, dispatcherAddress(dispatcherName),
                  workerId, manager, context))
              .recover(err -> clustered.close().transform(v -> Future.failedFuture(err)));
        })
        .onComplete(outcome -> context.runOnContext(v -> joined.handle(outcome)));
    }, "cluster-join");
    join.setDaemon(true);
    join.start();
    return joined.future();
  }

  @Override
  public void send(String peer, JsonObject message) {
    if (closed) {
      return; // a closed clustered Vert.x has no event bus left to send on
    }
    if (workerId == null) {
      vertx.eventBus().send(workerAddress(peer), message);
    } else {
      vertx.eventBus().send(dispatcherAddress, message, new DeliveryOptions().addHeader(FROM, workerId));
    }
  }

  /**
   * On a link with a membership of its own, which of the dispatchers have a consumer in this cluster: such a
   * dispatcher is there, if slow (starting, or busy), and joining again would not find more. Hazelcast drops
   * a killed member, and Vert.x its consumers, once the member's connections fail.
   */
  @Override
  public Future<Set<String>> listening(List<String> dispatcherNames) {
    if (member == null) {
      return MessageLink.super.listening(dispatcherNames);
    }
    List<Future<Boolean>> asked = dispatcherNames.stream().map(this::hasConsumer).toList();
    Promise<Set<String>> listening = Promise.promise();
    Future.join(asked).onComplete(ar -> context.runOnContext(v -> {
      Set<String> names = new HashSet<>();
      for (int i = 0; i < asked.size(); i++) {
        if (asked.get(i).succeeded() && asked.get(i).result()) {
          names.add(dispatcherNames.get(i));
        }
      }
      listening.complete(names);
    }));
    return listening.future();
  }

  private Future<Boolean> hasConsumer(String dispatcherName) {
    Promise<List<RegistrationInfo>> registrations = Promise.promise();
    member.getRegistrations(dispatcherAddress(dispatcherName), registrations);
    return registrations.future().map(found -> !found.isEmpty());
  }

  @Override
  public void follow(String dispatcherName) {
    if (member == null) {
      MessageLink.super.follow(dispatcherName);
    }
    dispatcherAddress = dispatcherAddress(dispatcherName);
  }

  /** Unregisters; a link that joined the cluster for itself also leaves it, blocking until it has. */
  @Override
  public void close() {
    closed = true;
    if (member != null) {
      vertx.close().toCompletionStage().toCompletableFuture().join();
    } else {
      consumer.unregister();
    }
  }
}
