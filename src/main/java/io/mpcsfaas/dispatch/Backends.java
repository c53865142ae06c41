package io.mpcsfaas.dispatch;

import io.mpcsfaas.worker.InterpreterPool;
import io.mpcsfaas.worker.PoolOptions;
import io.mpcsfaas.worker.PythonLocator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** Builds the {@link ExecutionBackend} of the configured dispatch mode. */
final class Backends {
  private Backends() {}

  static Future<ExecutionBackend> create(Vertx vertx, JsonObject conf) {
    String mode = conf.getString("mode", "local");
    if (!mode.equals("local")) {
      return Future.failedFuture("unknown dispatch mode '" + mode + "'");
    }
    return poolOptions(vertx, conf)
        .compose(options -> InterpreterPool.start(vertx, options))
        .map(LocalBackend::new);
  }

  /** Interpreter settings from the config; finding Python runs processes, so it happens off the loop. */
  static Future<PoolOptions> poolOptions(Vertx vertx, JsonObject conf) {
    return vertx.executeBlocking(() -> new PoolOptions(
        conf.getInteger("workers", Runtime.getRuntime().availableProcessors()),
        PythonLocator.find(conf.getString("python")),
        conf.getInteger("worker.depth", 2),
        conf.getInteger("task.timeout", 300),
        conf.getInteger("worker.memory_limit_mb", 0)));
  }
}
