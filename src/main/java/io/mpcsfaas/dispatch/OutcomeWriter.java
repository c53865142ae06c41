package io.mpcsfaas.dispatch;

import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.TaskQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Stores outcomes in batches (group commit): while one batch is on its way to Redis the next one gathers,
 * so under load one script call stores many outcomes, and when idle an outcome goes out at once. A batch
 * that fails is retried, ahead of what gathered meanwhile: an outcome in hand is never dropped. Used on the
 * dispatcher's context.
 */
final class OutcomeWriter {
  /** Bounds the time one script call holds Redis. */
  private static final int MAX_BATCH = 256;

  private final TaskQueue queue;
  private final BiConsumer<Throwable, Runnable> retryLater;
  private List<FinishedTask> gathering = new ArrayList<>();
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
    List<FinishedTask> batch;
    if (gathering.size() <= MAX_BATCH) {
      batch = gathering;
      gathering = new ArrayList<>();
    } else {
      batch = new ArrayList<>(gathering.subList(0, MAX_BATCH));
      gathering.subList(0, MAX_BATCH).clear();
    }
    writing = true;
    queue.finish(batch).onComplete(ar -> {
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
