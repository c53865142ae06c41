package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;

/** Where Redis is and how its keys are named. */
public record RedisConfig(String url, String prefix, int poolSize) {

  public static RedisConfig from(JsonObject conf) {
    return new RedisConfig(Conf.string(conf, "redis.url"), Conf.string(conf, "redis.prefix"),
        Conf.integer(conf, "redis.pool_size"));
  }
}
