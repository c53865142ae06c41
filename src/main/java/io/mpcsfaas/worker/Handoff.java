package io.mpcsfaas.worker;

import io.mpcsfaas.task.TaskOutcome;
import io.mpcsfaas.task.TaskSpec;
import io.vertx.core.Promise;

/** A task given to the pool and the promise of its outcome, which survives a move to another interpreter. */
record Handoff(TaskSpec task, Promise<TaskOutcome> promise) {}
