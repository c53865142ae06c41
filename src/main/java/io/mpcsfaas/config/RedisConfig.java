package io.mpcsfaas.config;

import io.vertx.core.json.JsonObject;
import java.util.Arrays;
import java.util.List;

/**
 * Where Redis is and how its keys are named: at {@code url}, or, when {@code sentinels} are given, the master
 * they call {@code master}; and how many replicas must hold a write ({@code minReplicas}, waited for up to
 * {@code waitMillis}) before it is answered.
 */
public record RedisConfig(String url, String prefix, int poolSize, List<String> sentinels, String master,
    int minReplicas, long waitMillis) {
  /** The longest reply the Redis client (Vert.x) reads: a longer one fails the command. */
  public static final long MAX_REPLY = 512L << 20;
  /**
   * The longest payload or result the platform stores: the base64 of a 1 GiB pickle, in one Java string. One
   * longer than a piece is stored in pieces (store/LargeValues.java), each read in a reply of its own.
   */
  public static final long MAX_VALUE = ((1L << 30) + 2) / 3 * 4;

  /** The config; fails with a message naming the flag when a Sentinel is not HOST:PORT or a count is negative. */
  public static RedisConfig from(JsonObject conf) {
    List<String> sentinels = Arrays.stream(Conf.string(conf, "redis.sentinels").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).map(RedisConfig::sentinelUrl).toList();
    int minReplicas = Conf.integer(conf, "redis.min_replicas");
    long waitMillis = Conf.number(conf, "redis.wait_ms");
    if (minReplicas < 0 || waitMillis < 1) {
      throw new IllegalArgumentException("--redis-min-replicas must be 0 or more and --redis-wait-ms 1 or more");
    }
    return new RedisConfig(Conf.string(conf, "redis.url"), Conf.string(conf, "redis.prefix"),
        Conf.integer(conf, "redis.pool_size"), sentinels, Conf.string(conf, "redis.master"), minReplicas, waitMillis);
  }

  /** Whether Redis is found through Sentinels. */
  public boolean sentinel() {
    return !sentinels.isEmpty();
  }

  /** {@code host:port} as a connection string; a {@code redis://} URL (with a password) is kept as it is. */
  private static String sentinelUrl(String sentinel) {
    if (sentinel.contains("://")) {
      return sentinel;
    }
    int colon = sentinel.lastIndexOf(':');
    if (colon <= 0 || !sentinel.substring(colon + 1).matches("[0-9]{1,5}")) {
      throw new IllegalArgumentException("--redis-sentinels: '" + sentinel + "' is not HOST:PORT");
    }
    return "redis://" + sentinel;
  }
}
