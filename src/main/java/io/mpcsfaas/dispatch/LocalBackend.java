package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Mode;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.worker.InterpreterPool;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.BiConsumer;

/** Local mode: tasks run on the dispatcher's own pool of Python interpreters. */
final class LocalBackend implements ExecutionBackend {
  private final InterpreterPool pool;
  private final String worker;

  LocalBackend(InterpreterPool pool, String worker) {
    this.pool = pool;
    this.worker = worker;
  }

  @Override
  public int room() {
    return pool.room();
  }

  @Override
  public boolean hasWorkers() {
    return true;
  }

  @Override
  public void onRoom(Runnable listener) {
    pool.onRoom(listener);
  }

  @Override
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    pool.onOutput(listener);
  }

  @Override
  public Future<Execution> run(TaskSpec task) {
    return pool.run(task).map(outcome -> new Execution(worker, outcome));
  }

  @Override
  public void cancel(String taskId) {
    pool.cancel(taskId);
  }

  @Override
  public JsonArray workers() {
    return new JsonArray().add(new JsonObject().put("id", worker).put("mode", Mode.LOCAL.word()).put("slots", pool.size())
        .put("busy", pool.busy()).put("last_heartbeat", System.currentTimeMillis() / 1000.0));
  }

  @Override
  public Future<Void> close() {
    return pool.close();
  }
}
