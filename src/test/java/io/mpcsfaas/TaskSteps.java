package io.mpcsfaas;

import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import java.util.List;

/**
 * One task at a time through the store's batch calls, for tests that play the API's or the dispatcher's part
 * (the platform itself always creates, starts and finishes tasks in batches).
 */
public final class TaskSteps {
  private TaskSteps() {}

  /** Creates a task and queues it; fails with {@code NotFoundException} for an unknown function. */
  public static Future<String> createTask(TaskStore store, String functionId, String payload,
      Integer timeoutSeconds) {
    return store.createTasks(functionId, List.of(payload), timeoutSeconds).map(ids -> ids.get(0));
  }

  /** Moves the task to RUNNING on {@code worker}; null when it will not run (ended, unknown, out of attempts). */
  public static Future<StartedTask> start(TaskQueue queue, QueueEntry entry, String worker, int maxAttempts,
      String exhaustedResult, String exhaustedError) {
    return queue.start(List.of(entry), worker, maxAttempts, exhaustedResult, exhaustedError)
        .map(started -> started.get(0));
  }

  /** Stores a terminal outcome from {@code worker} unless one is already stored; true when this call stored it. */
  public static Future<Boolean> finish(TaskQueue queue, QueueEntry entry, TaskStatus status, String result,
      String error, String worker) {
    TaskOutcome outcome = new TaskOutcome(status == TaskStatus.COMPLETED, result, error);
    return queue.finish(List.of(new FinishedTask(entry, outcome, worker))).map(stored -> stored.get(0));
  }
}
