package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import java.util.ArrayList;
import java.util.List;

/**
 * Which dispatchers are alive and what their workers are doing: each dispatcher refreshes a short-lived
 * description of itself every heartbeat, and a sorted set by last beat finds the live ones without a scan.
 */
public final class Presence {
  private final Redis redis;
  private final Keys keys;

  public Presence(Redis redis, Keys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Publishes {@code description} of dispatcher {@code name}; it expires unless refreshed within ttl. */
  public Future<Void> announce(String name, JsonObject description, long ttlMillis) {
    long now = System.currentTimeMillis();
    return redis.batch(List.of(
        Request.cmd(Command.SET).arg(keys.dispatcher(name)).arg(description.encode()).arg("PX").arg(ttlMillis),
        Request.cmd(Command.ZADD).arg(keys.dispatchers()).arg(now).arg(name),
        Request.cmd(Command.ZREMRANGEBYSCORE).arg(keys.dispatchers()).arg("-inf").arg(now - 10 * ttlMillis)))
        .mapEmpty();
  }

  /** The descriptions of the dispatchers that announced themselves within their ttl. */
  public Future<List<JsonObject>> liveDispatchers() {
    Request names = Request.cmd(Command.ZRANGE).arg(keys.dispatchers()).arg(0).arg(-1);
    return redis.send(names).compose(reply -> {
      if (reply == null || reply.size() == 0) {
        return Future.succeededFuture(List.of());
      }
      Request get = Request.cmd(Command.MGET);
      for (Response name : reply) {
        get.arg(keys.dispatcher(name.toString()));
      }
      return redis.send(get).map(values -> {
        List<JsonObject> live = new ArrayList<>();
        for (Response value : values) {
          if (value != null) {
            live.add(new JsonObject(value.toString()));
          }
        }
        return live;
      });
    });
  }
}
