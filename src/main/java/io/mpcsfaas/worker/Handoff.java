package io.mpcsfaas.worker;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Promise;

/**
 * A task given to the pool and the promise of its outcome, which survives a move to another interpreter. Each
 * hand-over is one object, so identity is its equality: a record's own equals and hashCode would read the
 * payloads, megabytes for a big argument, whenever a handoff is looked up in a set.
 */
record Handoff(TaskSpec task, Promise<TaskOutcome> promise) {
  @Override
  public boolean equals(Object other) {
    return this == other;
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }
}
