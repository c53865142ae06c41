package io.mpcsfaas.store;

import io.mpcsfaas.task.TaskSpec;

/** A task the dispatcher just moved to RUNNING: its queue entry, what a worker needs to run it, and its run count. */
public record StartedTask(QueueEntry entry, TaskSpec spec, int attempts) {}
