package io.mpcsfaas.api;

import io.mpcsfaas.async.GroupCommit;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.store.TaskStore.NewTask;
import io.mpcsfaas.store.TransferTime;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Creates the tasks of single submits by group commit: while one creation call is on its way to Redis, the
 * submits that arrive meanwhile gather into the next, so under load one script call creates many tasks
 * (fewer Lua calls and socket writes on both sides) and when idle a task is created at once. Each task is
 * still created atomically and answered on its own. When a call fails or times out, Redis counts as down:
 * the submits gathered behind it fail with it rather than queue for another timeout each. Used on the
 * API's context only.
 */
final class TaskCreator {
  private record Pending(NewTask task, Promise<Void> created) {}


  private final TaskStore store;
  private final long baseTimeoutMillis;
  private final GroupCommit<Pending> commit;

  /**
   * A creation call unanswered after {@link TransferTime#millis} of {@code baseTimeoutMillis} fails its submits
   * (Redis counts as down).
   */
  TaskCreator(TaskStore store, long baseTimeoutMillis) {
    this.store = store;
    this.baseTimeoutMillis = baseTimeoutMillis;
    this.commit = new GroupCommit<>(pending -> pending.task().sentLength(), this::createAll,
        TaskCreator::failAll);
  }

  /**
   * Creates the task; fails with {@link io.mpcsfaas.store.NotFoundException} when its function is unknown (to
   * its caller), with {@link io.mpcsfaas.store.LimitReachedException} when its tenant has too many in flight.
   */
  Future<Void> create(NewTask task) {
    Promise<Void> created = Promise.promise();
    commit.add(new Pending(task, created));
    return created.future();
  }

  private Future<Void> createAll(List<Pending> batch) {
    long bytes = batch.stream().mapToLong(pending -> pending.task().sentLength()).sum();
    return store.create(batch.stream().map(Pending::task).toList())
        .timeout(TransferTime.millis(baseTimeoutMillis, bytes), TimeUnit.MILLISECONDS)
        .compose(created -> {
          if (created.size() != batch.size()) {
            return Future.failedFuture(new IllegalStateException("the creation script answered for "
                + created.size() + " of " + batch.size() + " tasks"));
          }
          for (int i = 0; i < batch.size(); i++) {
            NewTask task = batch.get(i).task();
            Promise<Void> promise = batch.get(i).created();
            switch (created.get(i)) {
              case CREATED -> promise.complete();
              case UNKNOWN_FUNCTION -> promise.fail(TaskStore.unknownFunction(task.functionId()));
              case LIMIT_REACHED -> promise.fail(TaskStore.limitReached(task.caller()));
            }
          }
          return Future.succeededFuture();
        });
  }

  private static Future<Void> failAll(List<Pending> batch, List<Pending> gathered, Throwable cause) {
    List<Pending> failing = new ArrayList<>(batch);
    failing.addAll(gathered);
    gathered.clear();
    failing.forEach(pending -> pending.created().fail(cause));
    return Future.succeededFuture();
  }
}
