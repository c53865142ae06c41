package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/** The HTTP API: where it listens, the largest body it takes, and the key clients must send (empty: none). */
public record ApiConfig(String host, int port, long bodyLimit, String key) {

  public static ApiConfig from(JsonObject conf) {
    return new ApiConfig(Conf.string(conf, "api.host"), Conf.integer(conf, "api.port"),
        Conf.number(conf, "api.body_limit"), Conf.string(conf, "api.key"));
  }
}
