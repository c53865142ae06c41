package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Creates tasks by group commit: while one create call is on its way to Redis, the submissions that arrive
 * gather and go out together in the next, so under load one script call and one round trip carry many
 * submissions, and when idle a submission goes out at once. Each submission stays all or none on its own.
 * A call with no answer in {@link #CALL_TIMEOUT_MILLIS} fails its submissions, so a connection gone
 * half-open cannot hold back the ones behind it. Thread-safe: callers may be on any thread.
 */
final class Submissions {
  private static final Scripts CREATE_TASKS = Scripts.load("create_tasks.lua");
  /** Bound the time one script call holds Redis, and the size of one request. */
  private static final int MAX_TASKS = 512;
  private static final long MAX_BYTES = 8L << 20;
  private static final long CALL_TIMEOUT_MILLIS = 2000;

  private record Submission(String functionId, Integer timeoutSeconds, List<String> ids, List<String> payloads,
      Promise<Boolean> created) {}

  private final Redis redis;
  private final Keys keys;
  private final List<Submission> gathering = new ArrayList<>();
  private boolean calling;

  Submissions(Redis redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Creates one task per payload under {@code ids}; true when created, false when the function is unknown. */
  Future<Boolean> create(String functionId, Integer timeoutSeconds, List<String> ids, List<String> payloads) {
    Promise<Boolean> created = Promise.promise();
    List<Submission> batch;
    synchronized (this) {
      gathering.add(new Submission(functionId, timeoutSeconds, ids, payloads, created));
      batch = calling ? null : takeBatch();
    }
    if (batch != null) {
      call(batch);
    }
    return created.future();
  }

  /** The next batch to send, marking a call as under way; null when nothing gathered. Hold the lock. */
  private List<Submission> takeBatch() {
    int size = 0;
    int tasks = 0;
    long bytes = 0;
    while (size < gathering.size() && (size == 0 || (tasks < MAX_TASKS && bytes < MAX_BYTES))) {
      Submission s = gathering.get(size++);
      tasks += s.ids().size();
      for (String payload : s.payloads()) {
        bytes += payload.length();
      }
    }
    if (size == 0) {
      calling = false;
      return null;
    }
    List<Submission> batch = new ArrayList<>(gathering.subList(0, size));
    gathering.subList(0, size).clear();
    calling = true;
    return batch;
  }

  private void call(List<Submission> batch) {
    List<String> args = new ArrayList<>();
    args.add(Timestamps.now());
    args.add(Keys.TASKS_CHANNEL);
    args.add(keys.task(""));
    args.add(keys.functionPrefix());
    for (Submission s : batch) {
      args.add(s.functionId());
      args.add(s.timeoutSeconds() == null ? "" : s.timeoutSeconds().toString());
      args.add(Integer.toString(s.ids().size()));
      for (int i = 0; i < s.ids().size(); i++) {
        args.add(s.ids().get(i));
        args.add(s.payloads().get(i));
      }
    }
    CREATE_TASKS.run(redis, List.of(keys.queue(), keys.stats()), args)
        .timeout(CALL_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
        .onComplete(ar -> {
          List<Submission> next;
          synchronized (this) {
            next = takeBatch();
          }
          if (next != null) {
            call(next);
          }
          for (int i = 0; i < batch.size(); i++) {
            Submission s = batch.get(i);
            if (ar.failed()) {
              s.created().fail(ar.cause());
            } else {
              Response counts = ar.result();
              s.created().complete(counts.get(i).toInteger() == s.ids().size());
            }
          }
        });
  }
}
