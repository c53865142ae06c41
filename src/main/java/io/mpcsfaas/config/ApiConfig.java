package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/**
 * The HTTP API: where it listens, the largest body it takes, the key clients must send (empty: none), and how
 * long a deleted function stays for the tasks submitted before (the result TTL).
 */
public record ApiConfig(String host, int port, long bodyLimit, String key, long resultTtlSeconds) {

  public static ApiConfig from(JsonObject conf) {
    return new ApiConfig(Conf.string(conf, "api.host"), Conf.integer(conf, "api.port"),
        Conf.number(conf, "api.body_limit"), Conf.string(conf, "api.key"), Conf.number(conf, "task.result_ttl"));
  }
}
