package io.mpcsfaas.store;

import io.mpcsfaas.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;

/** The one place a Redis client is built from the config. */
public final class RedisClients {
  /** Commands that may wait for a pooled connection: a batch read pipelines one per task, up to 10,000. */
  private static final int MAX_WAITING = 40_000;

  private RedisClients() {}

  public static Redis create(Vertx vertx, RedisConfig config) {
    return Redis.createClient(vertx, new RedisOptions().setConnectionString(config.url())
        .setMaxPoolSize(config.poolSize()).setMaxPoolWaiting(MAX_WAITING).setMaxWaitingHandlers(MAX_WAITING));
  }
}
