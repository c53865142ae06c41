package io.mpcsfaas.api;

import io.mpcsfaas.heap.HeapBudget;
import io.mpcsfaas.task.Base64Text;
import io.vertx.ext.web.RoutingContext;
import java.util.function.LongPredicate;

/**
 * The heap that big requests may hold at once. While it runs, a request with a big body holds several copies of
 * it: the body, its payload as text, the Redis client's bytes of it and their encoding, and under {@code ?wait=}
 * the result on its way back. Four 64 MiB calls at once at {@code -Xmx512m} all ran out of heap halfway, each
 * failing after the others had filled it. A body of {@link HeapBudget#BIG} or more now reserves
 * {@link HeapBudget#COPIES} times its length until its response ends, and one that does not fit beside those in
 * flight is refused with a 503 and {@code Retry-After} before any of it is read. A big result is reserved for the
 * same way before it is read ({@link #room}): eight reads of one 60 MiB result at once ran the default heap out
 * inside the Redis client, whose connection then answered nothing more. A request alone is always let in, however
 * big: the heap is the limit then, as before.
 */
final class BodyBudget {
  private final HeapBudget heap;

  BodyBudget(long capacity) {
    this.heap = new HeapBudget(capacity);
  }

  /** Three quarters of the heap: the rest is the platform's own, and the small requests'. */
  static BodyBudget ofHeap() {
    return new BodyBudget(Runtime.getRuntime().maxMemory() / 4 * 3);
  }

  /**
   * The bytes a body of {@code length} reserves; 0 for a small one. A body that is a pickle itself ({@link PickleBody})
   * counts as the base64 text it becomes, a third longer: the copies the request holds are of that text.
   */
  static long bytesFor(long length, boolean pickle) {
    return length < HeapBudget.BIG ? 0 : HeapBudget.bytesFor(pickle ? Base64Text.encodedLength(length) : length);
  }

  boolean reserve(long bytes, long held) {
    return heap.reserve(bytes, held);
  }

  void release(long bytes) {
    heap.release(bytes);
  }

  /** What {@code ctx}'s request holds of this budget, given back when its response ends. */
  Hold hold(RoutingContext ctx) {
    Hold hold = ctx.get(Hold.KEY);
    if (hold == null) {
      hold = new Hold();
      ctx.put(Hold.KEY, hold);
      Hold held = hold;
      ctx.addEndHandler(end -> release(held.bytes)); // the response's end, or the connection's
    }
    return hold;
  }

  /**
   * The room a read for {@code ctx}'s request has for the result it answers with, of a given length (base64),
   * reserved for it when admitted (for TaskStore#tasks): what the request holds already counts, its body being
   * gone by then. None once the response is over (its client gone while it waited): a share taken then would
   * never be given back, its end having passed.
   */
  LongPredicate room(RoutingContext ctx) {
    return length -> {
      long bytes = bytesFor(length, false);
      return bytes == 0 || (open(ctx) && hold(ctx).atLeast(bytes));
    };
  }

  /** {@link #room} for an answer of many results, which holds them all at once: each adds its share. */
  LongPredicate roomForMany(RoutingContext ctx) {
    return length -> {
      long bytes = bytesFor(length, false);
      return bytes == 0 || (open(ctx) && hold(ctx).more(bytes));
    };
  }

  private static boolean open(RoutingContext ctx) {
    return !ctx.response().ended() && !ctx.response().closed();
  }

  /** One request's share: what its body, or the results it answers with, hold at once. */
  final class Hold {
    private static final String KEY = "mpcsfaas.budget.hold";
    private long bytes;

    /** Holds {@code total} in all, if it fits beside what others hold; false if it does not. */
    boolean atLeast(long total) {
      long more = total - bytes;
      if (more <= 0) {
        return true;
      }
      if (!reserve(more, bytes)) {
        return false;
      }
      bytes += more;
      return true;
    }

    /**
     * Holds {@code more} besides what it holds: the first share as {@link #atLeast}, any other only if it fits
     * beside all that is reserved, this request's own shares included (a result left out is taken apart).
     */
    boolean more(long more) {
      if (!reserve(more, 0)) { // as a request holding nothing: its own shares count as others'
        return false;
      }
      bytes += more;
      return true;
    }
  }

  long capacity() {
    return heap.capacity();
  }
}
