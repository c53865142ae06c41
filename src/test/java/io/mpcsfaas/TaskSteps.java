package io.mpcsfaas;

import static io.mpcsfaas.TestRedis.await;

import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TaskStore;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * For tests that play the API's or the dispatcher's part: one task at a time through the store's batch calls
 * (the platform itself creates, starts and finishes tasks in batches), and claiming the entries of given tasks.
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

  /** Claims the queue entries of these tasks, polling until all are found (other tasks may share the queue). */
  public static Map<String, QueueEntry> claim(TaskQueue queue, String... taskIds) {
    await(queue.ensureGroup());
    List<String> wanted = List.of(taskIds);
    Map<String, QueueEntry> found = new HashMap<>();
    TestRedis.eventually(Duration.ofSeconds(10), "queue entries of " + wanted, () -> {
      for (QueueEntry entry : await(queue.claim(10_000, 100, false))) {
        if (wanted.contains(entry.taskId())) {
          found.put(entry.taskId(), entry);
        }
      }
      return found.keySet().containsAll(wanted);
    });
    return found;
  }
}
