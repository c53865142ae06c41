package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the finish script counts per function (function_stats.lua): stored outcomes, failures and a run-time
 * histogram, since the function was registered.
 *
 * @param calls tasks of the function that ended with a stored outcome
 * @param failures those that ended FAILED
 * @param run their run times, in seconds
 */
public record FunctionStats(String functionId, String name, long calls, long failures, Histogram run) {

  /**
   * The figures of the {@code limit} newest registered functions the viewer sees (an admin: all, else its
   * tenant's), newest first, in two round trips.
   */
  public static Future<List<FunctionStats>> newest(Redis redis, Keys keys, Tenant viewer, int limit) {
    String listing = viewer.admin() ? keys.functions() : keys.tenantFunctions(viewer.name());
    Request ids = Request.cmd(Command.ZRANGE).arg(listing).arg(0).arg(limit - 1).arg("REV");
    return redis.send(ids).compose(reply -> {
      List<String> list = new ArrayList<>();
      reply.forEach(r -> list.add(r.toString()));
      if (list.isEmpty()) {
        return Future.succeededFuture(List.of());
      }
      List<Request> reads = new ArrayList<>(2 * list.size());
      for (String id : list) {
        reads.add(Request.cmd(Command.HGET).arg(keys.function(id)).arg("name"));
        reads.add(Request.cmd(Command.HGETALL).arg(keys.functionStats(id)));
      }
      return redis.batch(reads).map(replies -> {
        List<FunctionStats> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
          Response name = replies.get(2 * i);
          if (name != null) {
            out.add(of(list.get(i), name.toString(), replies.get(2 * i + 1)));
          }
        }
        return out;
      });
    });
  }

  private static FunctionStats of(String id, String name, Response hash) {
    Map<String, Double> fields = new HashMap<>();
    for (String field : hash.getKeys()) {
      fields.put(field, Double.valueOf(hash.get(field).toString()));
    }
    return new FunctionStats(id, name, fields.getOrDefault("calls", 0.0).longValue(),
        fields.getOrDefault("failures", 0.0).longValue(), Histogram.of(fields, "run"));
  }
}
