package io.mpcsfaas.dispatch;

import io.mpcsfaas.worker.InterpreterPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** Builds the {@link ExecutionBackend} of the configured dispatch mode. */
final class Backends {
  private Backends() {}

  static Future<ExecutionBackend> create(Vertx vertx, JsonObject conf) {
    String mode = conf.getString("mode", "local");
    return switch (mode) {
      case "local" -> InterpreterPool.start(vertx, conf)
          .map(pool -> new LocalBackend(pool, conf.getString("dispatcher.name", "dispatcher") + "/local"));
      case "pull", "push", "cluster" -> RemoteBackend.start(vertx, conf);
      default -> Future.failedFuture("unknown dispatch mode '" + mode + "' (expected local, pull, push or cluster)");
    };
  }
}
