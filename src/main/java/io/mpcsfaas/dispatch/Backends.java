package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.Conf;
import io.mpcsfaas.config.CurveConfig;
import io.mpcsfaas.config.DispatcherConfig;
import io.mpcsfaas.config.LinkConfig;
import io.mpcsfaas.worker.InterpreterPool;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** Builds the {@link ExecutionBackend} of the configured dispatch mode. */
final class Backends {
  private Backends() {}

  static Future<ExecutionBackend> create(Vertx vertx, JsonObject conf) {
    return switch (Conf.mode(conf)) {
      case LOCAL -> InterpreterPool.start(vertx, conf)
          .map(pool -> new LocalBackend(pool, Conf.string(conf, "dispatcher.name") + "/local"));
      case PULL, PUSH, CLUSTER -> RemoteBackend.start(vertx, LinkConfig.from(conf), DispatcherConfig.from(conf),
          CurveConfig.from(conf));
    };
  }
}
