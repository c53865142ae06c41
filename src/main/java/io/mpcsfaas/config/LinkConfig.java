package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/**
 * Both ends of the link between a dispatcher and its remote workers: the mode, the dispatcher's name and
 * ZeroMQ address, the shared token (empty: none) and the heartbeats.
 */
public record LinkConfig(Mode mode, String dispatcherName, String dispatcherUrl, String token,
    long heartbeatMillis, long heartbeatTimeoutMillis) {

  public static LinkConfig from(JsonObject conf) {
    return new LinkConfig(Conf.mode(conf), Conf.string(conf, "dispatcher.name"),
        Conf.string(conf, "dispatcher.url"), Conf.string(conf, "worker.token"),
        Conf.number(conf, "heartbeat.interval_ms"), Conf.number(conf, "heartbeat.timeout_ms"));
  }
}
