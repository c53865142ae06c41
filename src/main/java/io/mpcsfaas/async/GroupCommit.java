package io.mpcsfaas.async;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Group commit: while one call is on its way, the items handed in meanwhile gather into the next, so under
 * load one call carries many items and when idle an item goes out at once. Each call carries at most
 * {@value #MAX_BATCH} items and stops adding once it holds {@value #MAX_BATCH_BYTES} bytes, which bounds the
 * time one call holds the server and the size of one request. What happens to a batch whose call failed is
 * the caller's choice ({@link FailurePolicy}). Single-threaded: used on one context.
 */
public final class GroupCommit<T> {
  private static final int MAX_BATCH = 256;
  private static final long MAX_BATCH_BYTES = 8L << 20;

  /** What becomes of a batch whose call failed (or threw). */
  @FunctionalInterface
  public interface FailurePolicy<T> {
    /**
     * {@code gathered} holds the items that arrived meanwhile, oldest first, and may be changed: put the batch
     * back at its head to retry it, or take items out to fail them. Items handed in while this runs gather
     * behind. The next call goes out when the returned future completes.
     */
    Future<Void> failed(List<T> batch, List<T> gathered, Throwable cause);
  }

  private final int maxCount;
  private final long maxBytes;
  private final ToLongFunction<T> bytes;
  private final Function<List<T>, Future<?>> call;
  private final FailurePolicy<T> onFailure;
  private final List<T> gathered = new ArrayList<>();
  private boolean calling;

  /** {@code call} sends one batch; {@code bytes} tells the size an item adds to a request. */
  public GroupCommit(ToLongFunction<T> bytes, Function<List<T>, Future<?>> call, FailurePolicy<T> onFailure) {
    this(MAX_BATCH, MAX_BATCH_BYTES, bytes, call, onFailure);
  }

  GroupCommit(int maxCount, long maxBytes, ToLongFunction<T> bytes, Function<List<T>, Future<?>> call,
      FailurePolicy<T> onFailure) {
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
    this.bytes = bytes;
    this.call = call;
    this.onFailure = onFailure;
  }

  /** Sends the item now when no call is on its way, else with the next call. */
  public void add(T item) {
    gathered.add(item);
    if (!calling) {
      callNext();
    }
  }

  private void callNext() {
    if (gathered.isEmpty()) {
      calling = false;
      return;
    }
    int size = 0;
    long total = 0;
    while (size < gathered.size() && size < maxCount && (size == 0 || total < maxBytes)) {
      total += bytes.applyAsLong(gathered.get(size++));
    }
    List<T> batch = new ArrayList<>(gathered.subList(0, size));
    gathered.subList(0, size).clear();
    calling = true;
    Future<?> sent;
    try {
      sent = call.apply(batch);
    } catch (RuntimeException | OutOfMemoryError e) {
      // a batch too big for the heap fails as a failed call would: left pending, no call would go out again
      sent = Future.failedFuture(e);
    }
    sent.onComplete(ar -> {
      Future<Void> resume = ar.succeeded() ? Future.succeededFuture() : onFailure.failed(batch, gathered, ar.cause());
      resume.onComplete(v -> callNext());
    });
  }
}
