package io.mpcsfaas.dispatch;

import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.util.function.BiConsumer;

/**
 * Where a dispatcher's tasks run: one implementation per dispatch mode. The dispatcher takes only as many
 * tasks from the queue as {@link #room()} allows, so tasks nobody can run yet stay in Redis.
 * All methods are called on the dispatcher's context.
 */
public interface ExecutionBackend {

  /** Tasks that can be handed over now. */
  int room();

  /**
   * Whether any worker is there to run tasks, now or when it has room: a dispatcher without one claims
   * nothing, so that the tasks wait in the queue for a dispatcher that has.
   */
  boolean hasWorkers();

  /** Registers the listener called whenever {@link #room()} or {@link #hasWorkers()} may have grown. */
  void onRoom(Runnable listener);

  /** Registers the listener called with what a running task printed so far (by task id), while it runs. */
  void onOutput(BiConsumer<String, TaskOutput> listener);

  /**
   * Runs a task. The future completes with the task's outcome, user errors included; it fails with
   * {@link WorkerLostException} when the task's worker was lost, for the dispatcher to run it again.
   */
  Future<Execution> run(TaskSpec task);

  /**
   * Stops a task it runs, if it runs it: its {@link #run} future then completes (with a cancelled or other
   * outcome, which the store ignores, the task having ended). A task it does not hold is ignored.
   */
  void cancel(String taskId);

  /** The workers behind this backend: {@code id}, {@code mode}, {@code slots}, {@code busy}, {@code last_heartbeat}. */
  JsonArray workers();

  Future<Void> close();
}
