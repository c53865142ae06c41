package io.mpcsfaas.store;

import io.mpcsfaas.config.RedisConfig;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;

/**
 * Makes a write wait until {@code replicas} replicas hold it (Redis WAIT), so that a failover cannot lose what
 * was answered. WAIT counts the replicas that acknowledged the last write of its own connection, and a pooled
 * client may send each command on another one: the write, a mark and WAIT go in one batch, which the client
 * sends on one connection. The mark (a PUBLISH, which replicas receive) is that connection's last write even
 * when the write changed nothing, as when it finds its work done by an earlier call whose WAIT fell short;
 * since the replication stream is in order, a replica that has the mark has that earlier work too.
 */
public final class ReplicaWait {
  /** No waiting: writes go out alone. */
  public static final ReplicaWait NONE = new ReplicaWait(0, 0);
  /** The channel of the mark; nobody listens. */
  private static final String MARK_CHANNEL = "replication-mark";

  private final int replicas;
  private final long millis;

  private ReplicaWait(int replicas, long millis) {
    this.replicas = replicas;
    this.millis = millis;
  }

  public static ReplicaWait of(RedisConfig config) {
    return config.minReplicas() == 0 ? NONE : new ReplicaWait(config.minReplicas(), config.waitMillis());
  }

  /** Whether writes wait for replicas. */
  public boolean waits() {
    return replicas > 0;
  }

  /**
   * The write's reply once {@code replicas} replicas hold it; fails with {@link NotReplicatedException} when
   * fewer confirm within the time, or with the write's own error.
   */
  Future<Response> send(Redis redis, Request write) {
    if (replicas == 0) {
      return redis.send(write);
    }
    Request mark = Request.cmd(Command.PUBLISH).arg(MARK_CHANNEL).arg("");
    Request wait = Request.cmd(Command.WAIT).arg(replicas).arg(millis);
    return redis.batch(List.of(write, mark, wait)).compose(replies -> {
      int confirmed = replies.get(2).toInteger();
      return confirmed >= replicas ? Future.succeededFuture(replies.get(0))
          : Future.failedFuture(new NotReplicatedException("only " + confirmed + " of the " + replicas
              + " Redis replicas required (--redis-min-replicas) confirmed the write within " + millis + " ms"));
    });
  }
}
