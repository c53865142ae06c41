package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells when tasks end without polling Redis: one subscription (a connection of its own) to the channel where
 * every finished task is announced wakes those waiting for it, handing them the task itself when the
 * announcement carries it (a small outcome), so that they need not read it back. While the subscription is
 * down it reconnects with backoff, and on reconnecting wakes the waits whose tasks ended meanwhile; a wait
 * otherwise runs to its limit and the caller reads the task then. Single-threaded (the context that calls
 * {@link #start}).
 */
public final class Completions {
  private static final Logger LOG = LoggerFactory.getLogger(Completions.class);

  private final Vertx vertx;
  private final Redis redis;
  private final Keys keys;
  private final Map<String, List<Promise<TaskRecord>>> waiting = new HashMap<>();
  private final Subscription subscription;

  public Completions(Vertx vertx, Redis redis, Keys keys) {
    this.vertx = vertx;
    this.redis = redis;
    this.keys = keys;
    this.subscription = new Subscription(vertx, redis, keys.doneChannel(), this::onDone, this::wakeThoseThatEnded);
  }

  /** Subscribes; a failure is retried with backoff until {@link #close}. */
  public void start() {
    subscription.start();
  }

  /**
   * After (re)subscribing: a task that ended while no subscription was up was announced to no one, so the
   * requests waiting for it are woken (they read the task) rather than held to their limit.
   */
  private void wakeThoseThatEnded() {
    List<String> ids = new ArrayList<>(waiting.keySet());
    if (ids.isEmpty()) {
      return;
    }
    List<Request> reads = ids.stream().map(id -> TaskCodec.readStatus(keys.task(id))).toList();
    redis.batch(reads).onSuccess(statuses -> {
      for (int i = 0; i < ids.size(); i++) {
        TaskStatus status = TaskCodec.status(statuses.get(i));
        if (status != null && status.isTerminal()) {
          List<Promise<TaskRecord>> list = waiting.remove(ids.get(i));
          if (list != null) {
            new ArrayList<>(list).forEach(Promise::tryComplete);
          }
        }
      }
    });
  }

  public void close() {
    subscription.close();
  }

  /**
   * A future completed when {@code taskId} is announced as ended, or after {@code millis}, whichever is
   * first: with the ended task when the announcement carried it, else with null (read it then). Register
   * before reading the task, so that an end between the read and the wait is not missed.
   */
  public Future<TaskRecord> await(String taskId, long millis) {
    Promise<TaskRecord> promise = Promise.promise();
    waiting.computeIfAbsent(taskId, id -> new ArrayList<>(1)).add(promise);
    long timer = vertx.setTimer(millis, t -> promise.tryComplete());
    promise.future().onComplete(done -> {
      vertx.cancelTimer(timer);
      List<Promise<TaskRecord>> list = waiting.get(taskId);
      if (list != null && list.remove(promise) && list.isEmpty()) {
        waiting.remove(taskId);
      }
    });
    return promise.future();
  }

  /** Ends a wait early (the task was found ended, or the request is done). */
  public void cancel(String taskId, Future<TaskRecord> wait) {
    List<Promise<TaskRecord>> list = waiting.get(taskId);
    if (list != null) {
      for (Promise<TaskRecord> promise : list) {
        if (promise.future() == wait) {
          promise.tryComplete();
          return;
        }
      }
    }
  }

  private void onDone(String message) {
    List<Promise<TaskRecord>> list = waiting.remove(TaskCodec.doneTaskId(message));
    if (list != null) {
      TaskRecord task = readable(message);
      new ArrayList<>(list).forEach(promise -> promise.tryComplete(task));
    }
  }

  /** The task the message carries; null when it carries only the id or cannot be read (then Redis is read). */
  private static TaskRecord readable(String message) {
    try {
      return TaskCodec.fromDoneMessage(message);
    } catch (RuntimeException e) {
      LOG.debug("unreadable done message, reading the task instead: {}", e.toString());
      return null;
    }
  }
}
