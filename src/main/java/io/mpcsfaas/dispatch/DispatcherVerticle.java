package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.DispatcherConfig;
import io.mpcsfaas.config.Mode;
import io.mpcsfaas.config.RedisConfig;
import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.Keys;
import io.mpcsfaas.store.Presence;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.RedisClients;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskIndex;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.task.PickledException;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves tasks from the durable Redis queue to an {@link ExecutionBackend} and their outcomes back to Redis.
 * It claims no more tasks than the backend can take, so the rest wait in Redis for any dispatcher; a claimed
 * task stays pending in the queue until its outcome is stored, so a crash loses nothing.
 */
public final class DispatcherVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DispatcherVerticle.class);
  private static final long BLOCK_MILLIS = 2000;
  private static final long MAX_BACKOFF_MILLIS = 5000;
  private static final long ANNOUNCE_MILLIS = 1000;
  /** How stale the latency histograms of /metrics may be; each flush is one round trip for all tasks. */
  private static final long HISTOGRAM_FLUSH_MILLIS = 1000;

  private Redis redis;
  private TaskQueue queue;
  private OutcomeWriter outcomes;
  private Presence presence;
  private Mode mode;
  private long announcer;
  private long histogramFlusher;
  private ExecutionBackend backend;
  private int maxAttempts;
  private String exhaustedResult;
  private String exhaustedError;
  /** Claimed entries not yet handed to the backend: recovered after a restart, or to run again. */
  private final ArrayDeque<QueueEntry> backlog = new ArrayDeque<>();
  private long takeoverMillis;
  private int prefetch;
  private long caretaker;
  private int starting;
  private boolean reading;
  private boolean ready;
  private boolean stopped;
  private long backoffMillis;

  @Override
  public Future<?> start() {
    DispatcherConfig conf = DispatcherConfig.from(config());
    RedisConfig redisConf = RedisConfig.from(config());
    redis = RedisClients.create(vertx, redisConf);
    Keys keys = new Keys(redisConf.prefix());
    queue = new TaskQueue(redis, keys, conf.name(), conf.resultTtlSeconds());
    outcomes = new OutcomeWriter(queue, this::retryLater);
    maxAttempts = conf.maxAttempts();
    String message = "the task was lost with its worker " + maxAttempts + " times (max_attempts); giving up";
    exhaustedResult = PickledException.encode("RuntimeError", message);
    exhaustedError = "RuntimeError: " + message;
    presence = new Presence(redis, keys);
    mode = conf.mode();
    takeoverMillis = conf.takeoverMillis();
    prefetch = conf.prefetch();
    TaskIndex index = new TaskIndex(redis, keys); // expired tasks leave the index (the timer ends with the verticle)
    long longestTimeout = Conf.integer(config(), "task.timeout");
    vertx.setPeriodic(TaskIndex.TRIM_PERIOD_MILLIS, t -> index.trim(conf.resultTtlSeconds(), longestTimeout));
    return Backends.create(vertx, config()).onSuccess(b -> {
      backend = b;
      backend.onRoom(this::fill);
      connect();
      caretaker = vertx.setPeriodic(takeoverMillis / 3, t -> keepClaims());
      histogramFlusher = vertx.setPeriodic(HISTOGRAM_FLUSH_MILLIS, t -> flushHistograms());
    });
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    vertx.cancelTimer(announcer);
    vertx.cancelTimer(caretaker);
    vertx.cancelTimer(histogramFlusher);
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

  private void flushHistograms() {
    queue.flushHistograms().onFailure(err -> LOG.debug("could not store the latency histograms: {}",
        err.getMessage()));
  }

  /**
   * Makes sure the consumer group exists and takes back what this dispatcher held before a restart. Only
   * then does it claim new tasks (else the recovery would read those claims back as its own old ones and
   * run them twice) and announce itself as alive.
   */
  private void connect() {
    ready = false;
    queue.ensureGroup()
        .compose(v -> recoverPending())
        .onSuccess(v -> {
          backoffMillis = 0;
          ready = true;
          LOG.info("dispatcher {} ready ({} tasks recovered)", queue.consumer(), backlog.size());
          if (announcer == 0) {
            announce();
            announcer = vertx.setPeriodic(ANNOUNCE_MILLIS, t -> announce());
          }
          fill();
        })
        .onFailure(err -> retryLater(err, this::connect));
  }

  private Future<Void> recoverPending() {
    return queue.claim(10_000, 0, true).compose(entries -> {
      backlog.clear();
      backlog.addAll(entries);
      return Future.succeededFuture();
    });
  }

  /**
   * Several dispatchers may share one queue: this one keeps the entries it holds fresh, and takes over
   * those another dispatcher left untouched for {@code dispatcher.takeover_ms} (it died).
   */
  private void keepClaims() {
    if (!ready) {
      return;
    }
    queue.refresh()
        .compose(v -> backlog.size() < prefetch ? queue.takeOver(takeoverMillis, prefetch - backlog.size())
            : Future.succeededFuture(List.<QueueEntry>of()))
        .onSuccess(taken -> {
          if (!taken.isEmpty()) {
            LOG.info("took over {} tasks of a dispatcher that stopped", taken.size());
            backlog.addAll(taken);
            fill();
          }
        })
        .onFailure(err -> LOG.debug("could not refresh claims: {}", err.getMessage()));
  }

  /**
   * Hands claimed tasks to the backend while it has room, and keeps {@code prefetch} more claimed in the
   * backlog, so that a freed slot never waits for a round trip to the queue; called whenever that room may
   * have grown.
   */
  private void fill() {
    if (stopped || !ready) {
      return;
    }
    List<QueueEntry> batch = new ArrayList<>();
    while (!backlog.isEmpty() && room() - batch.size() > 0) {
      batch.add(backlog.pollFirst());
    }
    if (!batch.isEmpty()) {
      launch(batch);
    }
    int wanted = Math.max(0, room()) + prefetch - backlog.size();
    if (reading || wanted <= 0) {
      return;
    }
    reading = true;
    queue.claim(wanted, BLOCK_MILLIS, false).onComplete(ar -> {
      reading = false;
      if (ar.failed()) {
        // NOGROUP: Redis lost the queue (restarted without persistence, flushed): create it again.
        boolean lostGroup = String.valueOf(ar.cause().getMessage()).startsWith("NOGROUP");
        retryLater(ar.cause(), lostGroup ? this::connect : this::fill);
        return;
      }
      backoffMillis = 0;
      backlog.addAll(ar.result());
      fill();
    });
  }

  private int room() {
    return backend.room() - starting;
  }

  /** Moves the tasks to RUNNING in one round trip, then hands those that will run to the backend. */
  private void launch(List<QueueEntry> entries) {
    starting += entries.size();
    queue.start(entries, queue.consumer(), maxAttempts, exhaustedResult, exhaustedError).onComplete(ar -> {
      starting -= entries.size();
      if (ar.failed()) {
        for (int i = entries.size() - 1; i >= 0; i--) {
          backlog.addFirst(entries.get(i));
        }
        retryLater(ar.cause(), this::fill);
        return;
      }
      for (int i = 0; i < entries.size(); i++) {
        StartedTask task = ar.result().get(i);
        if (task != null) {
          run(entries.get(i), task);
        }
      }
      fill();
    });
  }

  private void run(QueueEntry entry, StartedTask task) {
    backend.run(task.spec()).onComplete(ar -> {
      if (ar.succeeded()) {
        store(entry, ar.result());
      } else {
        LOG.info("task {} lost its worker ({}); it will run again", entry.taskId(), ar.cause().getMessage());
        backlog.addLast(entry);
        fill();
      }
    });
  }

  private void store(QueueEntry entry, Execution execution) {
    outcomes.store(new FinishedTask(entry, execution.outcome(), execution.worker()));
  }

  private void retryLater(Throwable err, Runnable action) {
    if (stopped) {
      return;
    }
    backoffMillis = Math.min(MAX_BACKOFF_MILLIS, Math.max(100, backoffMillis * 2));
    LOG.warn("Redis unavailable ({}); retrying in {} ms", err.getMessage(), backoffMillis);
    vertx.setTimer(backoffMillis, t -> action.run());
  }
}
