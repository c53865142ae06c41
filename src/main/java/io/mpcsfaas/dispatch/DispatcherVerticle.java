package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.DispatcherConfig;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.store.Handover;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.Presence;
import io.mpcsfaas.store.RedisClients;
import io.mpcsfaas.store.ReplicaWait;
import io.mpcsfaas.store.Subscription;
import io.mpcsfaas.store.TaskIndex;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.Timestamps;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link Dispatcher} over Redis and the backend of the configured mode, and keeps it visible: it
 * announces the dispatcher as alive, keeps its claims fresh and flushes its latency histograms on timers.
 */
public final class DispatcherVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DispatcherVerticle.class);
  private static final long ANNOUNCE_MILLIS = 1000;
  /** How stale the latency histograms of /metrics may be; each flush is one round trip for all tasks. */
  private static final long HISTOGRAM_FLUSH_MILLIS = 1000;
  /** How late a delayed retry may start past its due time; each look is one round trip. */
  private static final long RETRY_PROMOTION_MILLIS = 250;
  /** Most due retries queued in one look. */
  private static final int RETRIES_PER_LOOK = 1000;

  private final Handover handover;
  private Redis redis;
  private TaskQueue queue;
  private Presence presence;
  private Mode mode;
  private ExecutionBackend backend;
  private Dispatcher dispatcher;
  private long announcer;
  private long caretaker;
  private long histogramFlusher;
  private long retryPromoter;
  private Subscription cancels;

  public DispatcherVerticle() {
    this(Handover.NONE);
  }

  /** Big arguments and results also pass through {@code handover} from and to an API in this JVM. */
  public DispatcherVerticle(Handover handover) {
    this.handover = handover;
  }

  @Override
  public Future<?> start() {
    DispatcherConfig conf = DispatcherConfig.from(config());
    RedisConfig redisConf = RedisConfig.from(config());
    redis = RedisClients.create(vertx, redisConf);
    Keys keys = new Keys(redisConf.prefix());
    queue = new TaskQueue(redis, keys, conf.name(), conf.resultTtlSeconds(), ReplicaWait.of(redisConf), handover);
    presence = new Presence(redis, keys);
    mode = conf.mode();
    TaskIndex index = new TaskIndex(redis, keys); // expired tasks leave the index (the timer ends with the verticle)
    long longestTimeout = Conf.integer(config(), "task.timeout");
    vertx.setPeriodic(TaskIndex.TRIM_PERIOD_MILLIS, t -> index.trim(conf.resultTtlSeconds(), longestTimeout));
    return Backends.create(vertx, config()).onSuccess(b -> {
      backend = b;
      dispatcher = new Dispatcher(new RedisDispatchQueue(queue, conf), backend,
          (delay, action) -> vertx.setTimer(delay, t -> action.run()), conf.prefetch(),
          new HeapBudget(Runtime.getRuntime().maxMemory() / 2)); // the rest: its own, outcomes, an API beside
      // Alive only once it runs tasks: the API's health check counts on a dispatcher that is announced.
      dispatcher.start().onSuccess(v -> {
        announce();
        announcer = vertx.setPeriodic(ANNOUNCE_MILLIS, t -> announce());
      });
      // Every dispatcher hears every cancel; the one holding the task stops it.
      cancels = new Subscription(vertx, redis, keys.cancelChannel(), dispatcher::cancel, () -> {});
      cancels.start();
      caretaker = vertx.setPeriodic(conf.takeoverMillis() / 3, t -> dispatcher.keepClaims());
      retryPromoter = vertx.setPeriodic(RETRY_PROMOTION_MILLIS, t -> promoteRetries());
      histogramFlusher = vertx.setPeriodic(HISTOGRAM_FLUSH_MILLIS, t -> flushHistograms());
    });
  }

  @Override
  public Future<?> stop() {
    if (dispatcher != null) {
      dispatcher.stop();
    }
    vertx.cancelTimer(announcer);
    vertx.cancelTimer(caretaker);
    vertx.cancelTimer(histogramFlusher);
    vertx.cancelTimer(retryPromoter);
    if (cancels != null) {
      cancels.close();
    }
    Future<Void> closing = backend == null ? Future.succeededFuture() : backend.close();
    return closing.eventually(() -> queue.flushHistograms().timeout(2, TimeUnit.SECONDS))
        .eventually(() -> redis.close());
  }

  /** Tells the API (health, GET /workers) that this dispatcher is alive and what its workers do. */
  private void announce() {
    JsonObject description = new JsonObject().put("name", queue.consumer()).put("mode", mode.word())
        .put("workers", backend.workers());
    presence.announce(queue.consumer(), description, 3 * ANNOUNCE_MILLIS)
        .onFailure(err -> LOG.debug("could not announce: {}", err.getMessage()));
  }

  /** Queues the delayed retries that are due. */
  private void promoteRetries() {
    queue.promoteDue(Timestamps.now(), RETRIES_PER_LOOK)
        .onFailure(err -> LOG.debug("could not queue the due retries: {}", err.getMessage()));
  }

  private void flushHistograms() {
    queue.flushHistograms().onFailure(err -> LOG.debug("could not store the latency histograms: {}",
        err.getMessage()));
  }
}
