package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Mode;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.mpcsfaas.worker.EnvironmentPools;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.function.BiConsumer;

/** Local mode: tasks run on the dispatcher's own Python interpreters, a pools per environment. */
final class LocalBackend implements ExecutionBackend {
  private final EnvironmentPools pools;
  private final String worker;

  LocalBackend(EnvironmentPools pools, String worker) {
    this.pools = pools;
    this.worker = worker;
  }

  @Override
  public int room() {
    return pools.room();
  }

  @Override
  public int room(String env) {
    return pools.room(env);
  }

  @Override
  public Set<String> envs() {
    return pools.names();
  }

  @Override
  public boolean hasWorkers() {
    return true;
  }

  @Override
  public void onRoom(Runnable listener) {
    pools.onRoom(listener);
  }

  @Override
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    pools.onOutput(listener);
  }

  @Override
  public Future<Execution> run(TaskSpec task) {
    return pools.run(task).map(outcome -> new Execution(worker, outcome));
  }

  @Override
  public void cancel(String taskId) {
    pools.cancel(taskId);
  }

  @Override
  public JsonArray workers() {
    return new JsonArray().add(new JsonObject().put("id", worker).put("mode", Mode.LOCAL.word()).put("slots", pools.size())
        .put("busy", pools.busy()).put("last_heartbeat", System.currentTimeMillis() / 1000.0)
        .put("envs", new JsonArray(List.copyOf(pools.names()))));
  }

  @Override
  public Future<Void> close() {
    return pools.close();
  }
}
