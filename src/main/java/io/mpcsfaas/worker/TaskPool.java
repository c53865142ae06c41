package io.mpcsfaas.worker;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * What a {@link RemoteWorkerVerticle} needs of the pool that runs its tasks: {@link EnvironmentPools} in a real
 * worker, a pool that answers at once in the capacity measurements of simulated peers. All methods run on the
 * worker's context.
 */
public interface TaskPool {
  /** Makes a worker's pool from its config. */
  @FunctionalInterface
  interface Starter {
    Future<TaskPool> start(Vertx vertx, JsonObject conf);
  }

  /** The environments offered, the default first. */
  Set<String> names();

  /** Tasks it runs at once (interpreters, over all environments). */
  int size();

  /** Tasks it can start now or soon. */
  int room();

  /** Called when room may have grown without a task ending. */
  void onRoom(Runnable listener);

  /** Called with what a task prints while it runs. */
  void onOutput(BiConsumer<String, TaskOutput> listener);

  /** Runs a task; the future holds how it ended (a failure of the function is an outcome, not a failed future). */
  Future<TaskOutcome> run(TaskSpec task);

  void cancel(String taskId);

  Future<Void> close();
}
