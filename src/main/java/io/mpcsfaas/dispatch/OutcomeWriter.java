package io.mpcsfaas.dispatch;

import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.TaskQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Stores outcomes in batches (group commit): while one batch is on its way to Redis the next one gathers,
 * so under load one script call stores many outcomes, and when idle an outcome goes out at once. A batch
 * that fails is retried, ahead of what gathered meanwhile: an outcome in hand is never dropped. Used on the
 * dispatcher's context. A call that gets no answer in {@link #WRITE_TIMEOUT_MILLIS} (a connection gone
 * half-open) counts as failed and is retried: storing an outcome twice changes nothing.
 */
final class OutcomeWriter {
  /** Bound the time one script call holds Redis, and the size of one request. */
  private static final int MAX_BATCH = 256;
  private static final long MAX_BATCH_BYTES = 8L << 20;
  private static final long WRITE_TIMEOUT_MILLIS = 10_000;

  private final TaskQueue queue;
  private final BiConsumer<Throwable, Runnable> retryLater;
  private final List<FinishedTask> gathering = new ArrayList<>();
  private boolean writing;

  /** {@code retryLater} runs its action again after a backoff, when the write failed. */
  OutcomeWriter(TaskQueue queue, BiConsumer<Throwable, Runnable> retryLater) {
    this.queue = queue;
    this.retryLater = retryLater;
  }

  void store(FinishedTask outcome) {
    gathering.add(outcome);
    if (!writing) {
      write();
    }
  }

  private void write() {
    if (gathering.isEmpty()) {
      return;
    }
    int size = 0;
    long bytes = 0;
    while (size < gathering.size() && size < MAX_BATCH && (size == 0 || bytes < MAX_BATCH_BYTES)) {
      FinishedTask outcome = gathering.get(size++);
      bytes += outcome.outcome().result().length()
          + (outcome.outcome().error() == null ? 0 : outcome.outcome().error().length());
    }
    List<FinishedTask> batch = new ArrayList<>(gathering.subList(0, size));
    gathering.subList(0, size).clear();
    writing = true;
    queue.finish(batch).timeout(WRITE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.failed()) {
        gathering.addAll(0, batch);
        retryLater.accept(ar.cause(), this::write);
        return;
      }
      writing = false;
      write();
    });
  }
}
