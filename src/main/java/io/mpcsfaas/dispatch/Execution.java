package io.mpcsfaas.dispatch;

import io.mpcsfaas.task.TaskOutcome;

/** A task's outcome and the worker that produced it. */
public record Execution(String worker, TaskOutcome outcome) {}
