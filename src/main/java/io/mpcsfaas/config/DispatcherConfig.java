package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/**
 * A dispatcher: its name (its consumer in Redis), where its ZeroMQ socket binds, how often a task may lose
 * its worker, how far it claims ahead, when it takes over a silent dispatcher's tasks, how long results stay.
 */
public record DispatcherConfig(Mode mode, String name, String bind, int port, int maxAttempts, int prefetch,
    long takeoverMillis, long resultTtlSeconds) {

  public static DispatcherConfig from(JsonObject conf) {
    String name = Conf.string(conf, "dispatcher.name");
    if (name.contains(",")) { // only a cluster worker lists several, the dispatchers it may follow
      throw new IllegalArgumentException("a dispatcher's --name is one name, got '" + name + "'");
    }
    return new DispatcherConfig(Conf.mode(conf), name,
        Conf.string(conf, "dispatcher.bind"), Conf.integer(conf, "dispatcher.port"),
        Conf.integer(conf, "dispatcher.max_attempts"), Conf.integer(conf, "dispatcher.prefetch"),
        Conf.number(conf, "dispatcher.takeover_ms"), Conf.number(conf, "task.result_ttl"));
  }
}
