package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/**
 * The HTTP API: where it listens, the largest body it takes, the single admin key clients may send (empty:
 * none), the file of tenants' keys (empty: none), and how long a deleted function stays for the tasks submitted
 * before (the result TTL).
 */
public record ApiConfig(String host, int port, long bodyLimit, String key, String keysFile, long resultTtlSeconds) {

  public static ApiConfig from(JsonObject conf) {
    return new ApiConfig(Conf.string(conf, "api.host"), Conf.integer(conf, "api.port"),
        Conf.number(conf, "api.body_limit"), Conf.string(conf, "api.key"), Conf.string(conf, "api.keys_file"),
        Conf.number(conf, "task.result_ttl"));
  }
}
