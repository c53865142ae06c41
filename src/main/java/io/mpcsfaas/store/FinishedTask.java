package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskStatus;

/** A task's terminal outcome on its way to Redis, with the queue entry it releases and the worker that ran it. */
public record FinishedTask(QueueEntry entry, TaskOutcome outcome, String worker) {

  public TaskStatus status() {
    return outcome.ok() ? TaskStatus.COMPLETED : TaskStatus.FAILED;
  }

  /** The same task failed instead, with the platform's {@code message} and what the task printed. */
  public FinishedTask failedInstead(String message) {
    return new FinishedTask(entry, TaskOutcome.platformFailure("RuntimeError", message).withOutput(outcome.output()),
        worker);
  }
}
