package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Platform-wide counters and histograms, kept in Redis by the task scripts so that every API process sees
 * the same figures whichever dispatcher ran the tasks, plus the queue's current depth.
 *
 * @param counters "submitted", "completed", "failed", and histogram fields "name:bound", "name:sum", "name:count"
 * @param queued tasks waiting for a dispatcher
 * @param claimed tasks claimed by a dispatcher and not ended (starting or running)
 */
public record PlatformStats(Map<String, Double> counters, long queued, long claimed) {

  public static Future<PlatformStats> read(Redis redis, Keys keys) {
    return redis.batch(List.of(
        Request.cmd(Command.HGETALL).arg(keys.stats()),
        Request.cmd(Command.XLEN).arg(keys.queue()),
        Request.cmd(Command.XPENDING).arg(keys.queue()).arg(Keys.DISPATCHERS_GROUP)))
        .recover(err -> String.valueOf(err.getMessage()).contains("NOGROUP") // in a batch: "ERR [2] NOGROUP ..."
            ? redis.batch(List.of(Request.cmd(Command.HGETALL).arg(keys.stats()),
                Request.cmd(Command.XLEN).arg(keys.queue())))
            : Future.failedFuture(err))
        .map(replies -> {
          Map<String, Double> counters = new TreeMap<>();
          Response hash = replies.get(0);
          for (String field : hash.getKeys()) {
            counters.put(field, Double.valueOf(hash.get(field).toString()));
          }
          long length = replies.get(1).toLong();
          long claimed = replies.size() > 2 && replies.get(2).size() > 0 ? replies.get(2).get(0).toLong() : 0;
          return new PlatformStats(counters, Math.max(0, length - claimed), claimed);
        });
  }

  public double counter(String name) {
    return counters.getOrDefault(name, 0.0);
  }
}
