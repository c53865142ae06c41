package io.mpcsfaas.store;

import io.vertx.core.Future;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.util.List;
import java.util.function.Supplier;

/**
 * Task payloads and results over {@value #INLINE} bytes travel beside the Lua scripts, with plain hash commands:
 * a value passed to a script as an argument is copied into Lua and again by each command that stores it, which
 * for 8 MiB cost Redis 250-450 ms per script where a plain HSET or HGET costs a fraction of it. The scripts keep
 * deciding every state change; only the big value moves outside them, in an order that never exposes a task
 * without it (see TaskStore#create and TaskQueue#finish). Lua's side of the threshold is written as the same
 * number in start_tasks.lua.
 */
final class LargeValues {
  static final int INLINE = 65536;
  /**
   * How long a payload written ahead of its creation script lives when that script never runs (the API died
   * between the two): the script makes it permanent when it creates the task.
   */
  static final long ORPHAN_SECONDS = 3600;

  private LargeValues() {}

  static boolean large(String value) {
    return value.length() > INLINE;
  }

  /**
   * Sends the writes of big values, then the script once they succeeded; the script alone when there are none,
   * not composed on Future.succeededFuture(): that future has no context, nor has what is composed on it, and
   * a timeout set on such a future (the API's on every creation call, the dispatcher's on every finish call) is
   * a timer on Netty's global thread, woken twice per call.
   */
  static <T> Future<T> writeFirst(Redis redis, List<Request> writes, Supplier<Future<T>> script) {
    return writes.isEmpty() ? script.get() : redis.batch(writes).compose(written -> script.get());
  }
}
