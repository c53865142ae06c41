package io.mpcsfaas.dispatch;

import io.mpcsfaas.config.DispatcherConfig;
import io.mpcsfaas.store.FinishedTask;
import io.mpcsfaas.store.QueueEntry;
import io.mpcsfaas.store.StartedTask;
import io.mpcsfaas.store.TaskQueue;
import io.mpcsfaas.store.TransferTime;
import io.mpcsfaas.task.PickledException;
import io.mpcsfaas.task.TaskOutput;
import io.vertx.core.Future;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The dispatcher's queue in Redis: {@link TaskQueue} with this dispatcher's attempt limit and takeover delay. */
final class RedisDispatchQueue implements DispatchQueue {
  /** How long one read for new entries waits in Redis before it answers none and is sent again. */
  private static final long BLOCK_MILLIS = 2000;
  /**
   * A finish call without an answer by then (a connection gone half-open) fails and is retried; one that
   * stores big results gets more (TransferTime).
   */
  private static final long FINISH_TIMEOUT_MILLIS = 10_000;

  private final TaskQueue queue;
  private final int maxAttempts;
  private final long takeoverMillis;
  private final String exhaustedResult;
  private final String exhaustedError;

  RedisDispatchQueue(TaskQueue queue, DispatcherConfig conf) {
    this.queue = queue;
    this.maxAttempts = conf.maxAttempts();
    this.takeoverMillis = conf.takeoverMillis();
    String message = "the task was lost with its worker " + maxAttempts + " times (max_attempts); giving up";
    this.exhaustedResult = PickledException.encode("RuntimeError", message);
    this.exhaustedError = "RuntimeError: " + message;
  }

  @Override
  public String consumer() {
    return queue.consumer();
  }

  @Override
  public Future<Void> ensureGroups(Collection<String> envs) {
    return queue.ensureGroups(envs);
  }

  @Override
  public Future<List<QueueEntry>> claimPending(int count, Collection<String> envs) {
    return queue.claim(count, 0, true, envs);
  }

  @Override
  public Future<List<QueueEntry>> claimNew(int count, Collection<String> envs) {
    return queue.claim(count, BLOCK_MILLIS, false, envs);
  }

  @Override
  public Future<List<StartedTask>> start(List<QueueEntry> entries) {
    return queue.start(entries, queue.consumer(), maxAttempts, exhaustedResult, exhaustedError);
  }

  @Override
  public Future<Void> finish(List<FinishedTask> outcomes) {
    long bytes = outcomes.stream().mapToLong(outcome -> outcome.outcome().result().length()).sum();
    return queue.finish(outcomes).timeout(TransferTime.millis(FINISH_TIMEOUT_MILLIS, bytes), TimeUnit.MILLISECONDS)
        .mapEmpty();
  }

  @Override
  public Future<Void> storeOutput(String taskId, TaskOutput output) {
    return queue.storeOutput(taskId, output).mapEmpty();
  }

  @Override
  public Future<Void> refresh(Collection<String> envs) {
    return queue.refresh(envs);
  }

  @Override
  public Future<List<QueueEntry>> takeOver(int count, Collection<String> envs) {
    return queue.takeOver(takeoverMillis, count, envs);
  }
}
