package io.mpcsfaas.dispatch;

import io.mpcsfaas.transport.TaskOutcome;

/** A task's outcome and the worker that produced it. */
public record Execution(String worker, TaskOutcome outcome) {}
