package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;

/**
 * One tenant's figures, as the task scripts keep them: tasks submitted, completed and failed since its first
 * (Keys.tenantStats), and queued and running now (its index sets, see task_index.lua).
 */
public record TenantStats(long submitted, long completed, long failed, long queued, long running) {

  /** The figures of {@code tenant}, in one round trip. */
  public static Future<TenantStats> read(Redis redis, Keys keys, String tenant) {
    return redis.batch(List.of(Request.cmd(Command.HGETALL).arg(keys.tenantStats(tenant)),
        Request.cmd(Command.ZCARD).arg(keys.tenantStatusIndex(tenant, "QUEUED")),
        Request.cmd(Command.ZCARD).arg(keys.tenantStatusIndex(tenant, "RUNNING"))))
        .map(replies -> {
          Response hash = replies.get(0);
          return new TenantStats(count(hash, "submitted"), count(hash, "completed"), count(hash, "failed"),
              replies.get(1).toLong(), replies.get(2).toLong());
        });
  }

  private static long count(Response hash, String field) {
    return hash.getKeys().contains(field) ? hash.get(field).toLong() : 0;
  }
}
