package io.mpcsfaas.worker;

import io.mpcsfaas.config.Environments;
import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskOutput;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The interpreters of a dispatcher in local mode or of a worker: one {@link InterpreterPool} of {@code workers}
 * interpreters per environment it offers ({@link Environments}), so a task runs only on the interpreters of its
 * function's environment. With the default environment alone it is that one pool. All methods run on the
 * pools' context.
 */
public final class EnvironmentPools implements TaskPool {
  private final Map<String, InterpreterPool> pools;

  private EnvironmentPools(Map<String, InterpreterPool> pools) {
    this.pools = pools;
  }

  /** {@link #start} for a worker. */
  static final TaskPool.Starter STARTER = (vertx, conf) -> start(vertx, conf).map(pools -> pools);

  /**
   * Starts the pools of the environments in {@code conf} (settings {@code python}, {@code environments}, and
   * those of {@link PoolOptions#from}); finding each Python runs processes, so it happens off the event loop.
   */
  public static Future<EnvironmentPools> start(Vertx vertx, JsonObject conf) {
    return vertx.executeBlocking(() -> options(conf)).compose(byEnv -> {
      Map<String, InterpreterPool> pools = new LinkedHashMap<>();
      List<Future<InterpreterPool>> starts = new ArrayList<>();
      byEnv.forEach((env, options) -> starts.add(InterpreterPool.start(vertx, options)
          .onSuccess(pool -> pools.put(env, pool))));
      return Future.all(starts).map(v -> new EnvironmentPools(orderedAs(byEnv.keySet(), pools)))
          .onFailure(err -> pools.values().forEach(InterpreterPool::close));
    });
  }

  private static Map<String, PoolOptions> options(JsonObject conf) {
    PoolOptions base = PoolOptions.from(conf);
    Map<String, PoolOptions> byEnv = new LinkedHashMap<>();
    Environments.from(conf).forEach((env, python) -> byEnv.put(env,
        env.equals(Environments.DEFAULT) ? base : base.withPython(PythonLocator.require(env, python))));
    return byEnv;
  }

  private static Map<String, InterpreterPool> orderedAs(Set<String> names, Map<String, InterpreterPool> pools) {
    Map<String, InterpreterPool> ordered = new LinkedHashMap<>();
    names.forEach(name -> ordered.put(name, pools.get(name)));
    return ordered;
  }

  /** The environments offered, the default first. */
  @Override
  public Set<String> names() {
    return pools.keySet();
  }

  /** Tasks of any environment the pools can start now or soon (see {@link InterpreterPool#room}). */
  @Override
  public int room() {
    int room = 0;
    for (InterpreterPool pool : pools.values()) {
      room += pool.room();
    }
    return room;
  }

  /** Tasks of {@code env} its pool can take now or soon; 0 for an environment not offered. */
  public int room(String env) {
    InterpreterPool pool = pools.get(env);
    return pool == null ? 0 : pool.room();
  }

  /** Interpreters running a task now. */
  public int busy() {
    int busy = 0;
    for (InterpreterPool pool : pools.values()) {
      busy += pool.busy();
    }
    return busy;
  }

  /** Interpreter processes kept running, over all environments. */
  @Override
  public int size() {
    int size = 0;
    for (InterpreterPool pool : pools.values()) {
      size += pool.size();
    }
    return size;
  }

  @Override
  public void onRoom(Runnable listener) {
    pools.values().forEach(pool -> pool.onRoom(listener));
  }

  @Override
  public void onOutput(BiConsumer<String, TaskOutput> listener) {
    pools.values().forEach(pool -> pool.onOutput(listener));
  }

  /** Runs the task on its environment's interpreters; one of an environment not offered here fails at once. */
  @Override
  public Future<TaskOutcome> run(TaskSpec task) {
    InterpreterPool pool = pools.get(task.env());
    if (pool == null) {
      return Future.succeededFuture(TaskOutcome.platformFailure("RuntimeError",
          "environment '" + task.env() + "' is not offered here (offered: " + String.join(", ", names()) + ")"));
    }
    return pool.run(task);
  }

  @Override
  public void cancel(String taskId) {
    pools.values().forEach(pool -> pool.cancel(taskId));
  }

  @Override
  public Future<Void> close() {
    pools.values().forEach(InterpreterPool::close);
    return Future.succeededFuture();
  }
}
