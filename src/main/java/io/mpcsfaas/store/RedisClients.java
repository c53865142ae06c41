package io.mpcsfaas.store;

import io.mpcsfaas.config.RedisConfig;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;

/**
 * The one place a Redis client is built from the config: to one server, or to the master a set of Sentinels
 * names. A Sentinel client asks them for the master at each new connection (the answer cached for a second),
 * so after a failover the connections that broke with the old master, the pooled ones as well as those of the
 * subscriptions and blocking reads, come back to the new one when they reconnect.
 */
public final class RedisClients {
  /** Commands that may wait for a pooled connection: a batch read pipelines one per task, up to 10,000. */
  private static final int MAX_WAITING = 40_000;

  private RedisClients() {}

  public static Redis create(Vertx vertx, RedisConfig config) {
    RedisOptions options = new RedisOptions().setMaxPoolSize(config.poolSize()).setMaxPoolWaiting(MAX_WAITING)
        .setMaxWaitingHandlers(MAX_WAITING);
    if (config.sentinel()) {
      options.setType(RedisClientType.SENTINEL).setMasterName(config.master()).setRole(RedisRole.MASTER);
      config.sentinels().forEach(options::addConnectionString);
    } else {
      options.setConnectionString(config.url());
    }
    return Redis.createClient(vertx, options);
  }
}
