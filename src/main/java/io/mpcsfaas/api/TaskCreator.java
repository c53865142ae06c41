package io.mpcsfaas.api;

import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.store.TaskStore.NewTask;
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
  /** Bound the time one script call holds Redis, and the size of one request. */
  private static final int MAX_BATCH = 256;
  private static final long MAX_BATCH_BYTES = 8L << 20;

  private record Pending(NewTask task, Promise<Void> created) {}

  private final TaskStore store;
  private final long timeoutMillis;
  private final List<Pending> gathering = new ArrayList<>();
  private boolean creating;

  /** A creation call unanswered after {@code timeoutMillis} fails its submits (Redis counts as down). */
  TaskCreator(TaskStore store, long timeoutMillis) {
    this.store = store;
    this.timeoutMillis = timeoutMillis;
  }

  /** Creates the task; fails with {@link io.mpcsfaas.store.NotFoundException} when its function is unknown. */
  Future<Void> create(NewTask task) {
    Promise<Void> created = Promise.promise();
    gathering.add(new Pending(task, created));
    if (!creating) {
      createGathered();
    }
    return created.future();
  }

  private void createGathered() {
    int size = 0;
    long bytes = 0;
    while (size < gathering.size() && size < MAX_BATCH && (size == 0 || bytes < MAX_BATCH_BYTES)) {
      bytes += gathering.get(size++).task().payload().length();
    }
    List<Pending> batch = new ArrayList<>(gathering.subList(0, size));
    gathering.subList(0, size).clear();
    creating = true;
    Future<List<Boolean>> call;
    try {
      call = store.create(batch.stream().map(Pending::task).toList());
    } catch (RuntimeException e) {
      call = Future.failedFuture(e);
    }
    call.timeout(timeoutMillis, TimeUnit.MILLISECONDS).onComplete(ar -> {
      Throwable failure = ar.failed() ? ar.cause() : ar.result().size() == batch.size() ? null
          : new IllegalStateException("the creation script answered for " + ar.result().size() + " of "
              + batch.size() + " tasks");
      List<Pending> failing = new ArrayList<>();
      if (failure == null) {
        for (int i = 0; i < batch.size(); i++) {
          if (ar.result().get(i)) {
            batch.get(i).created().complete();
          } else {
            batch.get(i).created().fail(TaskStore.unknownFunction(batch.get(i).task().functionId()));
          }
        }
      } else {
        failing.addAll(batch);
        failing.addAll(gathering);
        gathering.clear();
      }
      creating = false;
      failing.forEach(pending -> pending.created().fail(failure));
      if (!creating && !gathering.isEmpty()) { // a failed submit's listener may have started a call already
        createGathered();
      }
    });
  }
}
